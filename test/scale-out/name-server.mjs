// Answers every UDP datagram with this host's name, from the address it was sent to, so a
// client knows which director served it: node name-server.mjs NAME PORT.
// UDP on purpose: a query moved to another director mid-way is still answered there, so a
// failed query means nobody answered (a withdrawal too late, a removal too early).
import { createSocket } from 'node:dgram';

const [name, port] = process.argv.slice(2);
const sock = createSocket('udp4');
sock.on('message', (msg, from) => sock.send(`${name} ${msg}`, from.port, from.address));
sock.bind(Number(port), '0.0.0.0');
