// JWTs made and checked by an independent library (jose), for t/040-jwt.t.
//
//   node t/js/jwt.mjs sign   alg=EdDSA|HS256 key=PATH kid=KID [claims...]
//   node t/js/jwt.mjs verify alg=EdDSA|HS256 key=PATH token=JWT [iss= aud=]
//   node t/js/jwt.mjs forge  (like sign, for tokens jose refuses to make)
//   node t/js/jwt.mjs batch '[["sign", "alg=EdDSA", ...], ...]'
//
// Arguments are name=value. key is a PEM file (EdDSA: private to sign,
// public to verify) or an HS256 secret file (a trailing newline is not part
// of the secret, as for nexus_jwt_key). Claims: iss (nexus), aud (nexus-api),
// sub, sid, and the times iat, exp, nbf as an offset from now ("+900",
// "-60"); "omit" leaves a claim out. sign also takes crit=NAME (a critical
// header parameter). forge writes the token by hand: halg= puts any "alg"
// in the header (e.g. none: no signature at all), and with alg=HS256 key=
// may be any file, e.g. a PEM public key used as an HMAC secret.
//
// Prints one line of JSON: {"token": "..."} for sign and forge;
// {"ok": true, "header": {...}, "payload": {...}} or
// {"ok": false, "code": "ERR_...", "message": "..."} for verify; batch
// prints an array of those.

import { readFileSync } from 'node:fs';
import { createHmac, createPrivateKey, sign as edSign } from 'node:crypto';
import * as jose from 'jose';

let arg = {};

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

function fail(msg) {
    process.stderr.write(`jwt.mjs: ${msg}\n`);
    process.exit(2);
}

function secret(path) {
    const b = readFileSync(path);
    let n = b.length;
    while (n && (b[n - 1] === 0x0a || b[n - 1] === 0x0d)) {
        n--;
    }
    return new Uint8Array(b.subarray(0, n));
}

async function key(use) {
    if (!arg.key) {
        fail('key= is required');
    }
    if (arg.alg === 'HS256') {
        return secret(arg.key);
    }
    const pem = readFileSync(arg.key, 'utf8');
    return use === 'sign' ? jose.importPKCS8(pem, 'EdDSA')
                          : jose.importSPKI(pem, 'EdDSA');
}

function claims() {
    const now = Math.floor(Date.now() / 1000);
    const c = {
        iss: arg.iss ?? 'nexus',
        aud: arg.aud ?? 'nexus-api',
        sub: arg.sub ?? '42',
    };
    if (arg.aud && arg.aud.includes(',')) {
        c.aud = arg.aud.split(',');
    }
    if (arg.sid !== 'omit') {
        c.sid = Number(arg.sid ?? 7);
    }
    const times = [['iat', '+0'], ['exp', '+900'], ['nbf', null]];
    for (const [name, dflt] of times) {
        const v = arg[name] ?? dflt;
        if (v !== null && v !== 'omit') {
            c[name] = /^[+-]/.test(v) ? now + Number(v) : Number(v);
        }
    }
    for (const name of ['iss', 'aud', 'sub']) {
        if (c[name] === 'omit') {
            delete c[name];
        }
    }
    return c;
}

const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x))
    .toString('base64url');

async function run(cmd, args) {
    arg = parse(args);

    switch (cmd) {

    case 'sign': {
        const header = { alg: arg.alg, typ: 'JWT', kid: arg.kid };
        const opts = {};
        if (arg.crit) {
            header.crit = [arg.crit];
            header[arg.crit] = true;
            opts.crit = { [arg.crit]: true };
        }
        // SignJWT would fill in iat itself: set the claims as given
        const token = await new jose.SignJWT(claims())
            .setProtectedHeader(header)
            .sign(await key('sign'), opts);
        return { token };
    }

    case 'forge': {
        const header = { alg: arg.halg ?? arg.alg, typ: 'JWT', kid: arg.kid };
        const input = `${b64(header)}.${b64(claims())}`;
        let sig = '';
        if (header.alg === 'none') {
            sig = '';
        } else if (arg.alg === 'HS256') {
            sig = createHmac('sha256', secret(arg.key)).update(input)
                .digest('base64url');
        } else {
            const k = createPrivateKey(readFileSync(arg.key));
            sig = edSign(null, Buffer.from(input), k).toString('base64url');
        }
        return { token: `${input}.${sig}` };
    }

    case 'verify': {
        try {
            const { payload, protectedHeader } = await jose.jwtVerify(
                arg.token, await key('verify'), {
                    issuer: arg.iss ?? 'nexus',
                    audience: arg.aud ?? 'nexus-api',
                    algorithms: [arg.alg],
                    requiredClaims: ['exp', 'iat', 'sub'],
                });
            return { ok: true, header: protectedHeader, payload };
        } catch (e) {
            return { ok: false, code: e.code ?? 'ERROR', message: e.message };
        }
    }

    default:
        fail('usage: jwt.mjs sign|forge|verify name=value... '
             + '| batch JSON');
    }
}

const [cmd, ...rest] = process.argv.slice(2);
let out;

if (cmd === 'batch') {
    // one node start for many tokens: [["sign", "alg=...", ...], ...]
    out = [];
    for (const [c, ...a] of JSON.parse(rest[0])) {
        out.push(await run(c, a));
    }
} else {
    out = await run(cmd, rest);
}

process.stdout.write(JSON.stringify(out) + '\n');
