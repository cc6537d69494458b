// A syslog daemon stand-in for tests: binds a datagram socket at argv[2] and prints every
// datagram it receives as one JSON string per line. Exits when its parent does.
import unixDgram from 'unix-dgram';

const path = process.argv[2];
const socket = unixDgram.createSocket('unix_dgram', (buf) => process.stdout.write(`${JSON.stringify(buf.toString())}\n`));
socket.on('error', (e) => {
  process.stderr.write(`syslog-listener: ${e.message}\n`);
  process.exit(1);
});
socket.bind(path);
process.stdout.write(`${JSON.stringify({ listening: path })}\n`);
const parent = process.ppid;
const stop = () => {
  socket.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 500);
