// An SMTP server for tests run inside a namespace: listens on 127.0.0.1:PORT (argv[2]),
// prints "listening", then one JSON line per mail: { subject, body }.
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, _session, cb) {
    let data = '';
    stream.on('data', (c) => (data += c.toString()));
    stream.on('end', () => {
      const [head, ...rest] = data.split(/\r?\n\r?\n/);
      // long headers are folded onto continuation lines: unfold before reading
      const subject = /^Subject: (.*)$/m.exec(head.replace(/\r?\n[ \t]+/g, ' '))?.[1]?.trim() ?? '';
      process.stdout.write(JSON.stringify({ subject, body: rest.join('\n').trim() }) + '\n');
      cb();
    });
  },
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
