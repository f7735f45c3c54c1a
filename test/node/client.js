// A long-lived grpc-js-xds client of xds:///<keyspace>, driven by
// test/e2e/parity_test.go. The xDS bootstrap comes from the environment
// (GRPC_XDS_BOOTSTRAP_CONFIG), as grpc-js-xds reads it. The grpc packages
// come from the package directory named by GRPC_JS_DIR (another release,
// such as test/node-1.10), else from this one.
//
// Each stdin line is a command, {"n":20,"headers":{"x-shard":"-80"}}: make n
// sequential UnaryCalls with those headers (2 s deadline each). Each command
// is answered with one stdout line:
//   {"peers":[{"peer":"127.0.0.1:port","server_id":"zone1-..."}, ...],
//    "errors":[{"code":14,"details":"..."}, ...]}
'use strict';

const path = require('path');
const readline = require('readline');
const pkgDir = process.env.GRPC_JS_DIR || __dirname;
const load = (name) => require(require.resolve(name, { paths: [pkgDir] }));
const grpc = load('@grpc/grpc-js');
const protoLoader = load('@grpc/proto-loader');
load('@grpc/grpc-js-xds').register();

const keyspace = process.argv[2];
if (!keyspace) {
  console.error('usage: node client.js <keyspace>');
  process.exit(2);
}

const def = protoLoader.loadSync(path.join(__dirname, 'test.proto'), { keepCase: true });
const { TestService } = grpc.loadPackageDefinition(def).grpc.testing;
const client = new TestService(`xds:///${keyspace}`, grpc.credentials.createInsecure());

// call makes one UnaryCall and resolves to {peer, server_id} or {error}.
function call(headers) {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return new Promise((resolve) => {
    const c = client.UnaryCall({}, md, { deadline: Date.now() + 2000 }, (err, resp) => {
      if (err) resolve({ error: { code: err.code, details: err.details } });
      else resolve({ peer: c.getPeer(), server_id: resp.server_id });
    });
  });
}

async function run(cmd) {
  const out = { peers: [], errors: [] };
  for (let i = 0; i < cmd.n; i++) {
    const r = await call(cmd.headers || {});
    if (r.error) out.errors.push(r.error);
    else out.peers.push({ peer: r.peer, server_id: r.server_id });
  }
  return out;
}

// Commands run one at a time, in order: the driver waits for each answer.
const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    process.stdout.write(JSON.stringify(await run(JSON.parse(line))) + '\n');
  });
});
lines.on('close', () => queue.then(() => client.close()));
