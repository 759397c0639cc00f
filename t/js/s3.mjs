// Presigned S3 URLs made by the AWS SDK for JavaScript v3, and a local
// S3-compatible server, for t/062-media.t.
//
//   node t/js/s3.mjs presign '[{...}, ...]'
//       for each {bucket, region, endpoint?, key, access_key, secret_key,
//       date: "20261126T000000Z", expires: 900} prints, one a line, the URL
//       getSignedUrl(PutObjectCommand) makes: path-style for an endpoint
//       (forcePathStyle), virtual-host style on AWS without one.
//
//   node t/js/s3.mjs server port=N dir=PATH bucket=NAME [parent=PID]
//       runs the npm s3rver on 127.0.0.1:N with the bucket, access key
//       S3RVER and secret S3RVER. s3rver 3.7.1 checks a presigned URL's
//       access key and expiry but not its V4 signature (its source says
//       "unimplemented"), so a query-signed request is first checked here:
//       the SDK's S3RequestPresigner signs the same request again (same
//       path, query, date, expiry, key) and the signatures must be equal,
//       else 403 SignatureDoesNotMatch, as S3 answers. Requests signed
//       in the Authorization header (the module's HEAD, the SDK's own
//       requests) are checked the same way with the SDK's SignatureV4:
//       the headers the request says it signed, signed again.
//       Two helpers for a test that only talks to nginx (proxied there):
//       POST /_t/put  {"url": U, "ctype": T, "data": S, "tamper": X} PUTs
//                     S to U and answers "status: N" and S3's error code
//                     if any; tamper changes the URL first: "signature"
//                     (one digit), "key" (another object) or "expires";
//       GET  /_t/get?key=K  fetches the object with the SDK (GetObject)
//                     and answers "type: T" and "body: S".
//       POST /_t/putobj {"key": K, "ctype": T, "data": S, "size": N}
//                     stores S (or N bytes "x") as K with the SDK
//                     (PutObject), as if uploaded behind the API's back,
//                     and answers "status: N".
//       Prints "listening" once ready; stops on SIGTERM, or when the
//       process parent= is gone.

import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/protocol-http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

function fail(msg) {
    process.stderr.write(`s3.mjs: ${msg}\n`);
    process.exit(2);
}

function parse(list) {
    const out = {};
    for (const a of list) {
        const i = a.indexOf('=');
        if (i < 1) {
            fail(`bad argument "${a}": use name=value`);
        }
        out[a.slice(0, i)] = a.slice(i + 1);
    }
    return out;
}

// "20261126T000000Z" -> Date
function amzDate(s) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) {
        fail(`bad date "${s}"`);
    }
    return new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

async function presign(c) {
    const client = new S3Client({
        region: c.region,
        credentials: { accessKeyId: c.access_key, secretAccessKey: c.secret_key },
        ...(c.endpoint ? { endpoint: c.endpoint, forcePathStyle: true } : {}),
    });
    return getSignedUrl(client,
        new PutObjectCommand({ Bucket: c.bucket, Key: c.key }),
        { expiresIn: c.expires, signingDate: amzDate(c.date) });
}

const Secrets = { S3RVER: 'S3RVER' };

// the SDK's signature for the request a presigned URL describes
async function expectedSignature(url, method) {
    const q = url.searchParams;
    const [akid, , region] = (q.get('X-Amz-Credential') || '').split('/');
    if (!(akid in Secrets) || !region) {
        return null;
    }
    const query = {};
    for (const [k, v] of q) {
        if (!/^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Content-Sha256)$/.test(k)) {
            query[k] = v;
        }
    }
    const presigner = new S3RequestPresigner({
        credentials: { accessKeyId: akid, secretAccessKey: Secrets[akid] },
        region, sha256: Hash.bind(null, 'sha256'),
    });
    const req = new HttpRequest({
        method, protocol: url.protocol, hostname: url.hostname,
        port: url.port ? +url.port : undefined,
        path: url.pathname, query, headers: { host: url.host },
    });
    const signed = await presigner.presign(req, {
        signingDate: amzDate(q.get('X-Amz-Date')),
        expiresIn: +q.get('X-Amz-Expires'),
    });
    return signed.query['X-Amz-Signature'];
}

// the SDK's signature for a request signed in its Authorization header;
// undefined: not such a request (or an unknown key: s3rver answers that)
async function expectedHeaderSignature(req, url) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]*)$/
        .exec(req.headers.authorization || '');
    if (!m || !(m[1] in Secrets)) {
        return undefined;
    }
    const [, akid, , region, signedHeaders, given] = m;
    const date = String(req.headers['x-amz-date'] || '');
    if (!/^\d{8}T\d{6}Z$/.test(date)) {
        return { want: null, given };
    }
    const headers = {};
    for (const h of signedHeaders.split(';')) {
        headers[h] = req.headers[h] === undefined ? '' : String(req.headers[h]);
    }
    const query = {};
    for (const [k, v] of url.searchParams) {
        query[k] = v;
    }
    const signer = new SignatureV4({
        credentials: { accessKeyId: akid, secretAccessKey: Secrets[akid] },
        region, service: 's3', sha256: Hash.bind(null, 'sha256'),
        uriEscapePath: false, applyChecksum: true,
    });
    const signed = await signer.sign(new HttpRequest({
        method: req.method, protocol: url.protocol, hostname: url.hostname,
        port: url.port ? +url.port : undefined,
        path: url.pathname, query, headers,
    }), { signingDate: amzDate(date) });
    const want = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization);
    return { want: want && want[1], given };
}

function s3Error(res, status, code, message) {
    res.writeHead(status, { 'Content-Type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>`
            + `<Message>${message}</Message></Error>`);
}

async function readBody(req) {
    const chunks = [];
    for await (const c of req) {
        chunks.push(c);
    }
    return Buffer.concat(chunks);
}

async function server(a) {
    const { default: S3rver } = await import('s3rver');
    const port = +a.port;
    mkdirSync(a.dir, { recursive: true });
    const s3 = new S3rver({ directory: a.dir, silent: true, resetOnClose: true,
                           configureBuckets: [{ name: a.bucket }] });
    await s3.configureBuckets();
    const handle = s3.callback();
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new S3Client({
        region: 'us-east-1', endpoint, forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });

    const srv = createServer(async (req, res) => {
        try {
            const url = new URL(req.url, endpoint);

            if (url.pathname === '/_t/put') {
                const j = JSON.parse((await readBody(req)).toString());
                const u = new URL(j.url);
                if (j.tamper === 'signature') {
                    // one hex digit of the signature changed
                    const sig = u.searchParams.get('X-Amz-Signature');
                    u.searchParams.set('X-Amz-Signature',
                        sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0'));
                } else if (j.tamper === 'key') {
                    u.pathname += '.other';
                } else if (j.tamper === 'expires') {
                    u.searchParams.set('X-Amz-Expires', '604800');
                }
                const r = await fetch(u.href, { method: 'PUT', body: j.data,
                                              headers: { 'Content-Type': j.ctype } });
                const text = await r.text();
                const code = /<Code>([^<]+)<\/Code>/.exec(text);
                res.writeHead(200, { 'Content-Type': 'text/plain' });
                res.end(`status: ${r.status}\n` + (code ? `code: ${code[1]}\n` : ''));
                return;
            }

            if (url.pathname === '/_t/get') {
                let out;
                try {
                    const o = await client.send(new GetObjectCommand({
                        Bucket: a.bucket, Key: url.searchParams.get('key') }));
                    out = `type: ${o.ContentType}\nbody: ${await o.Body.transformToString()}\n`;
                } catch (e) {
                    out = `error: ${e.name}\n`;
                }
                res.writeHead(200, { 'Content-Type': 'text/plain' });
                res.end(out);
                return;
            }

            if (url.pathname === '/_t/putobj') {
                const j = JSON.parse((await readBody(req)).toString());
                let out;
                try {
                    const o = await client.send(new PutObjectCommand({
                        Bucket: a.bucket, Key: j.key, ContentType: j.ctype,
                        Body: j.data !== undefined ? j.data : 'x'.repeat(j.size) }));
                    out = `status: ${o.$metadata.httpStatusCode}\n`;
                } catch (e) {
                    out = `error: ${e.name}\n`;
                }
                res.writeHead(200, { 'Content-Type': 'text/plain' });
                res.end(out);
                return;
            }

            const header = await expectedHeaderSignature(req, url);
            if (header !== undefined && header.want !== header.given) {
                await readBody(req);
                s3Error(res, 403, 'SignatureDoesNotMatch',
                        'The request signature we calculated does not match the signature you provided.');
                return;
            }

            if (url.searchParams.has('X-Amz-Signature')) {
                const want = await expectedSignature(url, req.method);
                if (want !== null && want !== url.searchParams.get('X-Amz-Signature')) {
                    await readBody(req);
                    s3Error(res, 403, 'SignatureDoesNotMatch',
                            'The request signature we calculated does not match the signature you provided.');
                    return;
                }
            }

            handle(req, res);

        } catch (e) {
            s3Error(res, 500, 'InternalError', String(e && e.message));
        }
    });

    srv.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
    process.on('SIGTERM', () => process.exit(0));
    if (a.parent) {
        // the test that started this is gone: stop too
        setInterval(() => {
            try {
                process.kill(+a.parent, 0);
            } catch (e) {
                process.exit(0);
            }
        }, 500).unref();
    }
}

const [cmd, ...rest] = process.argv.slice(2);

if (cmd === 'presign') {
    let list;
    try {
        list = JSON.parse(rest[0]);
    } catch (e) {
        fail(`presign takes a JSON array: ${e.message}`);
    }
    for (const c of list) {
        process.stdout.write(await presign(c) + '\n');
    }

} else if (cmd === 'server') {
    await server(parse(rest));

} else {
    fail('usage: s3.mjs presign JSON | server port=N dir=PATH bucket=NAME');
}
