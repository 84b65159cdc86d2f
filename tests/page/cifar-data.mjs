// Small CIFAR-10-format data for the page tests (the real 162 MB archive is not shipped or
// downloaded): the official layout, cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin of
// 3,073-byte records (a label byte, then the red, green and blue 32 × 32 planes), in a ustar
// archive, gzipped — exactly what `cifar-10-binary.tar.gz` is, only with fewer records.
// The images are learnable: each class has its own colour and stripe orientation, plus noise,
// so a network that trains on them leaves chance quickly.
import { gzipSync } from 'node:zlib';

export const RECORD = 3073;
export const BATCHES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
export const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A seeded generator (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One batch file of `records` records (labels cycle through the classes), from `seed`. */
export function batch(records, seed) {
  const rand = rng(seed);
  const out = Buffer.alloc(records * RECORD);
  for (let r = 0; r < records; r++) {
    const label = (r * 7 + seed) % 10;
    const o = r * RECORD;
    out[o] = label;
    // Class colour (hue around the wheel) and stripes at one of 10 angles.
    const hue = (label / 10) * 2 * Math.PI;
    const colour = [0, 1, 2].map((c) => 128 + 90 * Math.cos(hue - (c * 2 * Math.PI) / 3));
    const angle = (label * Math.PI) / 10;
    const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
    const phase = rand() * 2 * Math.PI;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const stripe = 0.5 + 0.5 * Math.sin((x * dx + y * dy) * 0.8 + phase);
        for (let c = 0; c < 3; c++) {
          const v = colour[c] * (0.55 + 0.45 * stripe) + (rand() - 0.5) * 60;
          out[o + 1 + c * 1024 + y * 32 + x] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return out;
}

/** A ustar header for a regular file. */
function tarHeader(name, size) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write(`${Math.floor(Date.UTC(2009, 5, 4) / 1000).toString(8).padStart(11, '0')}\0`, 136);
  h.write('        ', 148); // the checksum counts its own field as spaces
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** A tar archive of `files` ([name, Buffer]), directories implied by the names. */
export function tar(files) {
  const parts = [];
  for (const [name, body] of files) {
    parts.push(tarHeader(name, body.length), body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The six batch files, `perBatch` records each (test batch: `testRecords`). */
export function batchFiles(perBatch = 200, testRecords = perBatch) {
  return BATCHES.map((name, i) => [name, batch(i === 5 ? testRecords : perBatch, 101 + i)]);
}

/** cifar-10-binary.tar.gz in miniature (the official layout and meta file). */
export function cifarTarGz(perBatch = 200, testRecords = perBatch) {
  const files = [
    ['cifar-10-batches-bin/batches.meta.txt', Buffer.from(`${CLASSES.join('\n')}\n\n`)],
    ...batchFiles(perBatch, testRecords).map(([name, body]) => [`cifar-10-batches-bin/${name}`, body]),
    ['cifar-10-batches-bin/readme.html', Buffer.from('<meta HTTP-EQUIV="REFRESH" content="0; url=http://www.cs.toronto.edu/~kriz/cifar.html">\n')],
  ];
  return gzipSync(tar(files), { level: 1 });
}
