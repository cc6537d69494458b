// A TCP service for the restart test: answers each line with `<name> <line>`, so the
// client knows which router served it. node tcp-echo.mjs NAME PORT
import { createServer } from 'node:net';

const [name, port] = process.argv.slice(2);
createServer((s) => {
  s.setEncoding('utf8');
  s.on('data', (d) => s.write(`${name} ${d}`));
  s.on('error', () => s.destroy());
}).listen(Number(port), '0.0.0.0', () => console.log('listening'));
