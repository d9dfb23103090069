import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";

/** A port on 127.0.0.1 on which nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}
