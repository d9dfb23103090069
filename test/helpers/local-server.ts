import { once } from "node:events";
import type { AddressInfo, Server, Socket } from "node:net";

export interface LocalServer {
  port: number;
  /** `http://HOST:PORT`. */
  url: string;
  /** Destroys every connection still open (and the caller's `sockets`), then closes the server. */
  close(): Promise<void>;
}

/**
 * `server` (net, http, https or tls) listening on a free port of `host`. Its connections are
 * tracked so that `close` ends at once, whatever a client left open; a caller may pass a set of
 * its own (sockets it opened for the server, e.g. to an upstream) to be destroyed with them.
 */
export async function listenLocal(server: Server, options: { host?: string; sockets?: Set<Socket> } = {}): Promise<LocalServer> {
  const host = options.host ?? "127.0.0.1";
  const sockets = options.sockets ?? new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${host}:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return;
      server.close();
      await once(server, "close");
    },
  };
}
