// The S3 server of the offsite tests: @20minutes/s3rver, which checks
// Signature V4, on 127.0.0.1. Usage: node server.js PORT DIRECTORY BUCKET...
// Access key and secret are s3rver's built-in pair (S3RVER / S3RVER).
'use strict';

const S3rver = require('@20minutes/s3rver');

const [port, directory, ...buckets] = process.argv.slice(2);
if (!port || !directory || buckets.length === 0) {
  console.error('usage: node server.js PORT DIRECTORY BUCKET...');
  process.exit(64);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});

server.run().then(
  (address) => {
    console.log(`listening on ${address.address}:${address.port}`);
    // The tests wait for this file rather than for a time.
    if (process.env.READY_FILE)
      require('fs').writeFileSync(process.env.READY_FILE, `${process.pid}\n`);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

for (const signal of ['SIGTERM', 'SIGINT'])
  process.on(signal, () => server.close().then(() => process.exit(0)));
