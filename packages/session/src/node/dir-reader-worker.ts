/** Worker thread of ./dir-reader.ts: reads one directory per message, synchronously. */
import { parentPort } from 'node:worker_threads';
import { readDirectorySync } from './dir-reader.js';
import type { ReadAnswer, ReadRequest } from './dir-reader.js';

parentPort?.on('message', (m: ReadRequest) => {
  let answer: ReadAnswer;
  try {
    const { names, numbers } = readDirectorySync(m.dir, m.root);
    answer = { id: m.id, names, numbers };
    parentPort?.postMessage(answer, [numbers.buffer]);
    return;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    answer = { id: m.id, error: { message: String(e.message), ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
  }
  parentPort?.postMessage(answer);
});
