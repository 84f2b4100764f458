// A webhook receiver that checks each delivery with Shopify's official library
// (`@shopify/shopify-api`, `shopify.webhooks.validate`) and prints one JSON line per delivery.
// Run with `node --input-type=module -e <this> <secret>` from the directory where the library
// is installed (ESM resolves from there); prints {"port": N} first.
import '@shopify/shopify-api/adapters/node';
import { shopifyApi, ApiVersion, LogSeverity } from '@shopify/shopify-api';
import http from 'node:http';

const shopify = shopifyApi({
  apiKey: 'stocksync-test',
  apiSecretKey: process.argv.at(-1),
  scopes: ['read_orders'],
  hostName: 'localhost',
  apiVersion: ApiVersion.April26,
  isEmbeddedApp: false,
  logger: { level: LogSeverity.Error },
});

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const check = await shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res });
    console.log(JSON.stringify(check));
    res.writeHead(check.valid ? 200 : 401);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
