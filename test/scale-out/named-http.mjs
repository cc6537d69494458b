// An HTTP server that answers every request with its name, so a client knows which director
// served it: node named-http.mjs NAME PORT (listens on every local address, the VIP too).
import { createServer } from 'node:http';

const [name, port] = process.argv.slice(2);
createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(`${name}\n`);
}).listen(Number(port), '0.0.0.0');
