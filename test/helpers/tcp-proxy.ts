// A TCP proxy on 127.0.0.1 in front of a real server, for failure tests: it
// passes bytes through, holds each new connection for `delayMs` before
// connecting upstream (a slow server), or goes down (nothing listening:
// connection refused) and comes back on the same port.

import net from 'node:net';

export class TcpProxy {
  mode: 'pass' | 'delay' = 'pass';
  delayMs = 5_000;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly upstreamPort: number,
    public port: number,
  ) {}

  static async start(upstreamPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(upstreamPort, 0);
    await proxy.up();
    return proxy;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  /** Listens (again, on the same port once it has one). */
  up(): Promise<void> {
    const server = net.createServer((client) => {
      this.track(client);
      const connect = (): void => {
        if (client.destroyed) return;
        const upstream = net.connect(this.upstreamPort, '127.0.0.1');
        this.track(upstream);
        client.pipe(upstream).pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      };
      if (this.mode === 'delay') {
        client.pause();
        const timer = setTimeout(connect, this.delayMs);
        client.once('close', () => clearTimeout(timer));
      } else connect();
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Stops listening and drops every connection: clients get connection refused. */
  down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  stop(): Promise<void> {
    return this.down();
  }
}
