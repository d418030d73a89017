/** Worker thread of the PasswordPool: crypt(3) verification away from the event loop. */
import { parentPort } from 'node:worker_threads';
import { verifyPassword } from '@ftpkit/config/node';

parentPort?.on('message', (m: { id: number; hash: string; password: string }) => {
  void verifyPassword(m.hash, m.password).then(
    (ok) => parentPort?.postMessage({ id: m.id, ok }),
    () => parentPort?.postMessage({ id: m.id, ok: false }),
  );
});
