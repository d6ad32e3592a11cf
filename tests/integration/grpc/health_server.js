// A gRPC server with the standard grpc.health.v1 service on 127.0.0.1, plain and (given a
// certificate) TLS. Prints {"plain": port, "tls": port} on one line, then reads commands from
// stdin: "set <service|-> <SERVING|NOT_SERVING|UNKNOWN>" ("-" is the server as a whole), answered
// by "ok". Exits when stdin closes.
'use strict';
const fs = require('fs');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const { HealthImplementation } = require('grpc-health-check');

const health = new HealthImplementation({
  '': 'SERVING',
  'svc.ok': 'SERVING',
  'svc.down': 'NOT_SERVING',
  'svc.unknown': 'UNKNOWN',
});

function bind(server, creds) {
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

async function main() {
  const [cert, key] = process.argv.slice(2);
  const server = new grpc.Server();
  health.addToServer(server);
  const ports = { plain: await bind(server, grpc.ServerCredentials.createInsecure()) };
  if (cert && key) {
    const creds = grpc.ServerCredentials.createSsl(null, [
      { cert_chain: fs.readFileSync(cert), private_key: fs.readFileSync(key) },
    ]);
    ports.tls = await bind(server, creds);
  }
  process.stdout.write(JSON.stringify(ports) + '\n');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, svc, status] = line.trim().split(/\s+/);
    if (cmd === 'set') {
      health.setStatus(svc === '-' ? '' : svc, status);
      process.stdout.write('ok\n');
    }
  });
  rl.on('close', () => server.tryShutdown(() => process.exit(0)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
