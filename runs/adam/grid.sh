#!/bin/bash
# One epoch of MNIST per design (BurstCCN, random Y unless the line says otherwise); two at a time, one thread each.
cd /work/main
grep -v '^#' runs/adam/${DESIGNS:-designs.txt} | xargs -P 2 -L 1 bash -c 'name=$0; [ -s runs/adam/$name.json ] && exit 0; /tmp/burstccn-adam train --epochs ${EPOCHS:-1} --threads 1 --json "$@" > runs/adam/$name.json 2> runs/adam/$name.err; echo "$name $* -> $(grep -o "\"best_test_error\":[0-9.]*" runs/adam/$name.json | tail -1)"'
