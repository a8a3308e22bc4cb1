#!/usr/bin/env bash
# Installs the independent GOST oracles the test-suite checks us against:
#   * Debian packages: OpenSSL gost engine, GnuTLS certtool, p11-kit;
#   * xmlsec1 and SoftHSM2 rebuilt from Debian's own source tarballs with GOST
#     enabled (Debian ships both with GOST switched off), under a fixed prefix.
#
# The build is cached: when $PREFIX already holds working binaries, it is skipped.
# Usage (as root): scripts/install-test-oracles.sh [--no-apt]
set -euo pipefail

PREFIX="${GOST_ORACLES_PREFIX:-/opt/gost-oracles}"
WORK="${GOST_ORACLES_WORK:-/var/cache/gost-oracles-build}"
APT=1
[[ "${1:-}" == "--no-apt" ]] && APT=0

log() { printf '[oracles] %s\n' "$*" >&2; }

if [[ $APT == 1 ]]; then
    if [[ $(id -u) != 0 ]]; then
        log "run as root (apt-get is needed), or pass --no-apt"
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    log "apt-get: runtime oracles and build dependencies"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends \
        libengine-gost-openssl openssl gnutls-bin p11-kit p11-kit-modules \
        build-essential pkg-config libssl-dev libxml2-dev libxslt1-dev libltdl-dev \
        ca-certificates tmux >/dev/null
fi

ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/gost.so
[[ -f $ENGINE ]] || { log "gost engine missing at $ENGINE"; exit 1; }

mkdir -p "$PREFIX/etc"
# The OpenSSL configuration that loads the gost engine; tests point OPENSSL_CONF here.
cat >"$PREFIX/etc/openssl-gost.cnf" <<EOF
openssl_conf = openssl_def

[openssl_def]
engines = engine_section

[engine_section]
gost = gost_section

[gost_section]
engine_id = gost
dynamic_path = $ENGINE
default_algorithms = ALL
CRYPT_PARAMS = id-Gost28147-89-CryptoPro-A-ParamSet
EOF

have_xmlsec() {
    [[ -x $PREFIX/bin/xmlsec1 ]] &&
        OPENSSL_CONF=$PREFIX/etc/openssl-gost.cnf "$PREFIX/bin/xmlsec1" --list-transforms 2>/dev/null |
            grep -q 'gostr34102012-gostr34112012-256'
}
have_softhsm() { [[ -f $PREFIX/lib/softhsm/libsofthsm2.so && -x $PREFIX/bin/softhsm2-util ]]; }

if have_xmlsec && have_softhsm; then
    log "cached oracles present under $PREFIX"
    exit 0
fi

# A private deb-src list built from the machine's own apt sources (no host named here).
SRC="$WORK/apt"
mkdir -p "$SRC/sources" "$SRC/lists/partial"
for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    sed 's/^Types: deb$/Types: deb-src/' "$f" >"$SRC/sources/$(basename "$f")"
done
APTOPT=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$SRC/sources"
    -o "Dir::State::Lists=$SRC/lists")
apt-get "${APTOPT[@]}" update -q >/dev/null 2>&1 || log "deb-src update reported an error (continuing)"

fetch_orig() { # package -> path of the orig tarball
    local pkg=$1
    local dir="$WORK/src-$pkg"
    mkdir -p "$dir"
    if ! ls "$dir"/"${pkg}"_*.orig.tar.gz >/dev/null 2>&1; then
        # softhsm2's debian.tar.xz is known to 404; the orig tarball still arrives.
        (cd "$dir" && apt-get "${APTOPT[@]}" source --download-only "$pkg" >/dev/null 2>&1) || true
    fi
    ls "$dir"/"${pkg}"_*.orig.tar.gz 2>/dev/null | head -n1
}

JOBS=$(nproc)

if ! have_xmlsec; then
    tarball=$(fetch_orig xmlsec1)
    [[ -n $tarball ]] || { log "could not download the xmlsec1 source"; exit 1; }
    log "building xmlsec1 with GOST from $(basename "$tarball")"
    build="$WORK/build-xmlsec1"
    rm -rf "$build" && mkdir -p "$build"
    tar -xzf "$tarball" -C "$build" --strip-components=1
    (
        cd "$build"
        ./configure --prefix="$PREFIX" --enable-gost --enable-gost2012 --without-nss \
            --without-gcrypt --without-gnutls --disable-docs --disable-static \
            --disable-crypto-dl --disable-apps-crypto-dl >configure.log 2>&1
        grep -q 'checking for GOST support... yes' configure.log ||
            { echo "xmlsec1 configure did not enable GOST" >&2; exit 1; }
        make -j"$JOBS" >make.log 2>&1 && make install >install.log 2>&1
    )
    have_xmlsec || { log "xmlsec1 built but lists no GOST 2012 transform"; exit 1; }
fi

if ! have_softhsm; then
    tarball=$(fetch_orig softhsm2)
    [[ -n $tarball ]] || { log "could not download the softhsm2 source"; exit 1; }
    log "building SoftHSM2 with GOST from $(basename "$tarball")"
    build="$WORK/build-softhsm2"
    rm -rf "$build" && mkdir -p "$build"
    tar -xzf "$tarball" -C "$build" --strip-components=1
    (
        cd "$build"
        ./configure --prefix="$PREFIX" --enable-gost --disable-p11-kit \
            --with-crypto-backend=openssl >configure.log 2>&1
        grep -q 'checking for GOST support... yes' configure.log ||
            { echo "softhsm2 configure did not enable GOST" >&2; exit 1; }
        make -j"$JOBS" >make.log 2>&1 && make install >install.log 2>&1
    )
    have_softhsm || { log "SoftHSM2 build did not install its module"; exit 1; }
fi

log "oracles ready under $PREFIX (OPENSSL_CONF=$PREFIX/etc/openssl-gost.cnf)"
