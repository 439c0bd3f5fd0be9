// A child process for the benchmarks: the baseline, a bare express 5 app that reads the body and answers 200.
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.raw({ type: () => true, limit: '5mb' }));
app.use((_req, res) => {
  res.status(200).type('text/plain').send('');
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
