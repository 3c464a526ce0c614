import net from 'node:net';

/** Asks the kernel for a free loopback port (bind to 0, read it back, release it). */
export async function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when something already listens on host:port; used to refuse start-up with a clear message. */
export async function isPortInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** True when host:port can be bound right now (nobody listens there). */
function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port in [low, high], tried at random. For ports that must fit a range the kernel's ephemeral ports (32768+
 * on Linux) do not: Temporal stores each role's membership port in a SMALLINT column (≤ 32767).
 */
export async function getFreePortInRange(low: number, high: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canBind(port, host)) return port;
  }
  throw new Error(`no free port found in ${low}-${high} on ${host}`);
}
