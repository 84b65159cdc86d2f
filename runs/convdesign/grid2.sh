#!/bin/bash
# One epoch of MNIST per design, BurstCCN, random Y; two at a time on one thread each.
cd /work/main
grep -v '^#' runs/convdesign/${DESIGNS:-designs.txt} | xargs -P 2 -L 1 bash -c 'name=$0; [ -s runs/convdesign/$name.json ] && exit 0; /tmp/burstccn-grid train --epochs ${EPOCHS:-1} --threads 1 --json "$@" > runs/convdesign/$name.json 2> runs/convdesign/$name.err; echo "$name $* -> $(grep -o "\"best_test_error\":[0-9.]*" runs/convdesign/$name.json | tail -1)"'
