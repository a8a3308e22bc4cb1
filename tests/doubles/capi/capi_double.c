/*
 * Test double of the CryptoAPI subset that providers/capi.py calls through ctypes, as
 * CryptoPro CSP (libcapi20.so/libcapi10.so) and ViPNet CSP (libadvapi32.so, libcrypt32.so,
 * libkernel32.so) export it on Linux (crypto.md §6).
 *
 * It reproduces the contract the provider relies on, not the vendors' internals:
 *   - Windows types on LP64 Linux: DWORD/ALG_ID 32-bit, HCRYPTPROV/HCRYPTHASH pointer-sized,
 *     CERT_CONTEXT {dwCertEncodingType, pbCertEncoded, cbCertEncoded, pCertInfo, hCertStore};
 *   - the call chain CertOpenSystemStoreA -> CertEnumCertificatesInStore ->
 *     CryptAcquireCertificatePrivateKey -> CryptSetProvParam(PP_KEYEXCHANGE_PIN /
 *     PP_SIGNATURE_PIN) -> CryptCreateHash(CALG_GR3411_2012_256/512) ->
 *     CryptSetHashParam(HP_HASHVAL, H as produced) -> CryptSignHashA (two-call length query);
 *   - failures through GetLastError with the Windows codes (SCARD_W_WRONG_CHV,
 *     SCARD_W_CHV_BLOCKED, NTE_SILENT_CONTEXT, NTE_BAD_ALGID, NTE_BAD_KEYSET, ...);
 *   - a REAL GOST R 34.10-2012 signature, computed here with OpenSSL's generic prime-curve
 *     arithmetic (independent of gostsign), returned in CryptoAPI byte order: the byte
 *     reversal of s_be || r_be.
 *
 * State: the file named by $CAPI_DOUBLE_STATE, one certificate per line:
 *   <cert.der path> <keyspec 1|2|0> <pin or -> <tries> <bits> <d> <p> <a> <b> <q> <x> <y>
 * (numbers in hex; keyspec 0 and d "-" for a certificate without a private key).
 *
 * Build: cc -shared -fPIC -o libcapi_double.so capi_double.c -lcrypto
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

typedef unsigned int DWORD;
typedef int BOOL;
typedef unsigned char BYTE;
typedef unsigned int ALG_ID;
typedef uintptr_t HCRYPTPROV;
typedef uintptr_t HCRYPTHASH;
typedef uintptr_t HCRYPTKEY;
typedef void *HCERTSTORE;

typedef struct {
    DWORD dwCertEncodingType;
    BYTE *pbCertEncoded;
    DWORD cbCertEncoded;
    void *pCertInfo;
    HCERTSTORE hCertStore;
} CERT_CONTEXT;
typedef const CERT_CONTEXT *PCCERT_CONTEXT;

#define TRUE 1
#define FALSE 0
#define X509_ASN_ENCODING 0x1
#define PKCS_7_ASN_ENCODING 0x10000
#define PP_KEYEXCHANGE_PIN 32
#define PP_SIGNATURE_PIN 33
#define HP_HASHVAL 2
#define CALG_GR3411_2012_256 0x8021
#define CALG_GR3411_2012_512 0x8022
#define CERT_KEY_PROV_INFO_PROP_ID 2

#define NTE_BAD_HASH 0x80090002u
#define NTE_BAD_ALGID 0x80090008u
#define NTE_NO_KEY 0x8009000Du
#define NTE_BAD_KEYSET 0x80090016u
#define NTE_SILENT_CONTEXT 0x80090022u
#define NTE_BAD_SIGNATURE 0x80090006u
#define ERROR_MORE_DATA 234u
#define ERROR_INVALID_PARAMETER 87u
#define CRYPT_E_NOT_FOUND 0x80092004u
#define SCARD_W_WRONG_CHV 0x8010006Bu
#define SCARD_W_CHV_BLOCKED 0x8010006Cu

#define MAX_CERTS 32

struct entry {
    CERT_CONTEXT ctx;
    DWORD keyspec;
    char pin[128];
    int has_pin;
    int tries;
    int *shared_tries;
    int bits;
    char d[200], p[200], a[200], b[200], q[200], x[200], y[200];
};

struct store {
    struct entry entries[MAX_CERTS];
    int count;
};

struct prov {
    struct entry *entry;
    int pin_ok;
};

struct hash {
    struct prov *prov;
    ALG_ID alg;
    BYTE value[64];
    DWORD len;
    int set;
};

static __thread DWORD last_error;

/* PIN tries survive closing the store, as on a token (per process is enough for tests). */
static struct {
    char path[4096];
    int tries;
} tries_table[MAX_CERTS];
static int tries_count;

static int *tries_for(const char *path, int initial) {
    for (int i = 0; i < tries_count; i++)
        if (strcmp(tries_table[i].path, path) == 0) return &tries_table[i].tries;
    if (tries_count == MAX_CERTS) return NULL;
    snprintf(tries_table[tries_count].path, sizeof tries_table[0].path, "%s", path);
    tries_table[tries_count].tries = initial;
    return &tries_table[tries_count++].tries;
}

static BOOL fail(DWORD code) {
    last_error = code;
    return FALSE;
}

DWORD GetLastError(void) { return last_error; }

static int read_file(const char *path, BYTE **out, DWORD *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc(n > 0 ? (size_t)n : 1);
    *len = (DWORD)fread(*out, 1, (size_t)n, f);
    fclose(f);
    return 1;
}

HCERTSTORE CertOpenSystemStoreA(HCRYPTPROV hProv, const char *name) {
    (void)hProv;
    const char *state = getenv("CAPI_DOUBLE_STATE");
    if (!state || !name || strcasecmp(name, "MY") != 0) {
        last_error = CRYPT_E_NOT_FOUND;
        return NULL;
    }
    FILE *f = fopen(state, "r");
    if (!f) {
        last_error = CRYPT_E_NOT_FOUND;
        return NULL;
    }
    struct store *s = calloc(1, sizeof *s);
    char path[4096], pin[128];
    while (s->count < MAX_CERTS) {
        struct entry *e = &s->entries[s->count];
        unsigned keyspec;
        int n = fscanf(f, "%4095s %u %127s %d %d %199s %199s %199s %199s %199s %199s %199s", path,
                       &keyspec, pin, &e->tries, &e->bits, e->d, e->p, e->a, e->b, e->q, e->x, e->y);
        if (n != 12) break;
        if (!read_file(path, &e->ctx.pbCertEncoded, &e->ctx.cbCertEncoded)) continue;
        e->ctx.dwCertEncodingType = X509_ASN_ENCODING | PKCS_7_ASN_ENCODING;
        e->ctx.hCertStore = s;
        e->keyspec = keyspec;
        e->has_pin = strcmp(pin, "-") != 0;
        e->shared_tries = tries_for(path, e->tries);
        if (!e->shared_tries) e->shared_tries = &e->tries;
        if (e->has_pin) snprintf(e->pin, sizeof e->pin, "%s", pin);
        s->count++;
    }
    fclose(f);
    return s;
}

PCCERT_CONTEXT CertEnumCertificatesInStore(HCERTSTORE hStore, PCCERT_CONTEXT prev) {
    struct store *s = hStore;
    int next = 0;
    if (!s) {
        last_error = ERROR_INVALID_PARAMETER;
        return NULL;
    }
    if (prev) {
        for (int i = 0; i < s->count; i++)
            if (&s->entries[i].ctx == prev) next = i + 1;
    }
    if (next >= s->count) {
        last_error = CRYPT_E_NOT_FOUND;
        return NULL;
    }
    return &s->entries[next].ctx;
}

PCCERT_CONTEXT CertDuplicateCertificateContext(PCCERT_CONTEXT ctx) { return ctx; }

BOOL CertFreeCertificateContext(PCCERT_CONTEXT ctx) {
    (void)ctx;
    return TRUE;
}

BOOL CertCloseStore(HCERTSTORE hStore, DWORD flags) {
    (void)flags;
    struct store *s = hStore;
    if (!s) return TRUE;
    for (int i = 0; i < s->count; i++) free(s->entries[i].ctx.pbCertEncoded);
    free(s);
    return TRUE;
}

static struct entry *entry_of(PCCERT_CONTEXT ctx) { return (struct entry *)(void *)ctx; }

BOOL CertGetCertificateContextProperty(PCCERT_CONTEXT ctx, DWORD prop, void *data, DWORD *len) {
    (void)data;
    if (!ctx || !len) return fail(ERROR_INVALID_PARAMETER);
    if (prop != CERT_KEY_PROV_INFO_PROP_ID || entry_of(ctx)->keyspec == 0)
        return fail(CRYPT_E_NOT_FOUND);
    *len = 0; /* the provider only asks whether the property exists */
    return TRUE;
}

BOOL CryptAcquireCertificatePrivateKey(PCCERT_CONTEXT ctx, DWORD flags, void *params,
                                       HCRYPTPROV *prov, DWORD *keyspec, BOOL *caller_free) {
    (void)flags;
    (void)params;
    if (!ctx || !prov) return fail(ERROR_INVALID_PARAMETER);
    struct entry *e = entry_of(ctx);
    if (e->keyspec == 0) return fail(NTE_BAD_KEYSET);
    struct prov *p = calloc(1, sizeof *p);
    p->entry = e;
    p->pin_ok = !e->has_pin;
    *prov = (HCRYPTPROV)p;
    if (keyspec) *keyspec = e->keyspec;
    if (caller_free) *caller_free = TRUE;
    return TRUE;
}

BOOL CryptSetProvParam(HCRYPTPROV hProv, DWORD param, const BYTE *data, DWORD flags) {
    (void)flags;
    struct prov *p = (struct prov *)hProv;
    if (!p || !data) return fail(ERROR_INVALID_PARAMETER);
    if (param != PP_KEYEXCHANGE_PIN && param != PP_SIGNATURE_PIN)
        return fail(ERROR_INVALID_PARAMETER);
    struct entry *e = p->entry;
    if (!e->has_pin) {
        p->pin_ok = 1;
        return TRUE;
    }
    if (*e->shared_tries <= 0) return fail(SCARD_W_CHV_BLOCKED);
    if (strcmp((const char *)data, e->pin) != 0) {
        (*e->shared_tries)--;
        return fail(*e->shared_tries <= 0 ? SCARD_W_CHV_BLOCKED : SCARD_W_WRONG_CHV);
    }
    p->pin_ok = 1;
    return TRUE;
}

BOOL CryptReleaseContext(HCRYPTPROV hProv, DWORD flags) {
    (void)flags;
    free((struct prov *)hProv);
    return TRUE;
}

BOOL CryptCreateHash(HCRYPTPROV hProv, ALG_ID alg, HCRYPTKEY key, DWORD flags, HCRYPTHASH *out) {
    (void)key;
    (void)flags;
    if (!hProv || !out) return fail(ERROR_INVALID_PARAMETER);
    if (alg != CALG_GR3411_2012_256 && alg != CALG_GR3411_2012_512) return fail(NTE_BAD_ALGID);
    struct hash *h = calloc(1, sizeof *h);
    h->prov = (struct prov *)hProv;
    h->alg = alg;
    *out = (HCRYPTHASH)h;
    return TRUE;
}

BOOL CryptSetHashParam(HCRYPTHASH hHash, DWORD param, const BYTE *data, DWORD flags) {
    (void)flags;
    struct hash *h = (struct hash *)hHash;
    if (!h || !data || param != HP_HASHVAL) return fail(ERROR_INVALID_PARAMETER);
    h->len = h->alg == CALG_GR3411_2012_256 ? 32 : 64;
    memcpy(h->value, data, h->len);
    h->set = 1;
    return TRUE;
}

BOOL CryptDestroyHash(HCRYPTHASH hHash) {
    free((struct hash *)hHash);
    return TRUE;
}

/* GOST R 34.10-2012 signature of h (byte order) -> out = reverse(s_be || r_be). */
static int gost_sign(struct entry *e, const BYTE *h, DWORD hlen, BYTE *out) {
    int ok = 0;
    int n = e->bits / 8;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = NULL, *a = NULL, *b = NULL, *q = NULL, *x = NULL, *y = NULL, *d = NULL;
    BN_hex2bn(&p, e->p);
    BN_hex2bn(&a, e->a);
    BN_hex2bn(&b, e->b);
    BN_hex2bn(&q, e->q);
    BN_hex2bn(&x, e->x);
    BN_hex2bn(&y, e->y);
    BN_hex2bn(&d, e->d);
    BIGNUM *k = BN_new(), *r = BN_new(), *s = BN_new(), *ee = BN_new(), *t = BN_new();
    BIGNUM *cx = BN_new();
    EC_GROUP *g = EC_GROUP_new_curve_GFp(p, a, b, ctx);
    EC_POINT *G = g ? EC_POINT_new(g) : NULL;
    EC_POINT *C = g ? EC_POINT_new(g) : NULL;
    BYTE le[64], sr[128];
    if (!g || !G || !C || !EC_POINT_set_affine_coordinates(g, G, x, y, ctx)) goto done;
    /* e = LE(h) mod q, 1 if zero */
    for (DWORD i = 0; i < hlen; i++) le[i] = h[hlen - 1 - i];
    BN_bin2bn(le, (int)hlen, ee);
    BN_mod(ee, ee, q, ctx);
    if (BN_is_zero(ee)) BN_one(ee);
    for (int attempt = 0; attempt < 100; attempt++) {
        if (!BN_priv_rand_range(k, q) || BN_is_zero(k)) continue;
        if (!EC_POINT_mul(g, C, NULL, G, k, ctx)) goto done;
        if (!EC_POINT_get_affine_coordinates(g, C, cx, NULL, ctx)) goto done;
        BN_mod(r, cx, q, ctx);
        if (BN_is_zero(r)) continue;
        BN_mod_mul(s, r, d, q, ctx);
        BN_mod_mul(t, k, ee, q, ctx);
        BN_mod_add(s, s, t, q, ctx);
        if (BN_is_zero(s)) continue;
        BN_bn2binpad(s, sr, n);
        BN_bn2binpad(r, sr + n, n);
        for (int i = 0; i < 2 * n; i++) out[i] = sr[2 * n - 1 - i];
        ok = 1;
        break;
    }
done:
    EC_POINT_free(C);
    EC_POINT_free(G);
    EC_GROUP_free(g);
    BN_free(p); BN_free(a); BN_free(b); BN_free(q); BN_free(x); BN_free(y); BN_clear_free(d);
    BN_clear_free(k); BN_free(r); BN_free(s); BN_free(ee); BN_free(t); BN_free(cx);
    BN_CTX_free(ctx);
    return ok;
}

BOOL CryptSignHashA(HCRYPTHASH hHash, DWORD keyspec, const char *descr, DWORD flags, BYTE *sig,
                    DWORD *siglen) {
    (void)descr;
    (void)flags;
    struct hash *h = (struct hash *)hHash;
    if (!h || !siglen) return fail(ERROR_INVALID_PARAMETER);
    struct entry *e = h->prov->entry;
    if (keyspec != e->keyspec) return fail(NTE_NO_KEY);
    if (!h->set) return fail(NTE_BAD_HASH);
    if ((h->alg == CALG_GR3411_2012_256) != (e->bits == 256)) return fail(NTE_BAD_ALGID);
    DWORD need = (DWORD)(e->bits / 4);
    if (!sig) {
        *siglen = need;
        return TRUE;
    }
    if (*siglen < need) {
        *siglen = need;
        return fail(ERROR_MORE_DATA);
    }
    if (!h->prov->pin_ok) return fail(NTE_SILENT_CONTEXT);
    if (!gost_sign(e, h->value, h->len, sig)) return fail(NTE_BAD_SIGNATURE);
    *siglen = need;
    return TRUE;
}
