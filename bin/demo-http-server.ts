/** The small HTTP server the demo puts behind the skeleton. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const DEMO_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>burrow demo</title></head>
<body><h1>Hello from behind the NAT</h1>
<p>This page came from a server that accepts no inbound connections, through a burrow relay,
encrypted end to end between the client forwarder and the skeleton.</p></body></html>
`;

export async function startDemoHttpServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(DEMO_PAGE) });
    res.end(req.method === 'HEAD' ? undefined : DEMO_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
