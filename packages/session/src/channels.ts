/** Helpers for {@link DataChannelFactory} wrappers (pure: ports only). */
import type { DataChannelFactory, DataConnection, PassiveListener } from './ports.js';

/**
 * `factory.listen` whose listeners hand out `map(connection)` for each accepted
 * connection; a connection mapped to undefined is dropped (`map` closed it) and the next
 * one awaited. For wrappers that track, unwrap or re-address data connections.
 */
export function mapAccepted(
  factory: DataChannelFactory,
  map: (c: DataConnection) => DataConnection | undefined | Promise<DataConnection | undefined>,
): DataChannelFactory['listen'] {
  return async (request) => {
    const r = await factory.listen(request);
    if (!r.ok) return r;
    const l = r.listener;
    const listener: PassiveListener = {
      port: l.port,
      exposedPort: l.exposedPort,
      fallback: l.fallback,
      accept: async () => {
        for (;;) {
          const c = await l.accept();
          if (c === undefined) return undefined;
          const d = await map(c);
          if (d !== undefined) return d;
        }
      },
      close: () => l.close(),
    };
    return { ok: true, listener };
  };
}
