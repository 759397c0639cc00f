# Installs what Nexus needs from Debian's packages, only when something is
# missing. Sourced by scripts/build, scripts/run, scripts/test and bench/run.

NEXUS_BUILD_PKGS="build-essential nginx-dev libpq-dev libhiredis-dev
    libjansson-dev libssl-dev postgresql-client"
NEXUS_RUN_PKGS="nginx postgresql postgresql-contrib redis-server openssl python3"
# nodejs + npm: the suite checks tokens against an independent JWT library
# (jose, from package.json); openssl makes the test keys at run time
NEXUS_TEST_PKGS="libtest-base-perl libwww-perl libjson-pp-perl valgrind
    nodejs npm openssl"
NEXUS_BENCH_PKGS="wrk postgresql-contrib util-linux"

nexus_install_pkgs() {
    local missing=() p
    for p in "$@"; do
        # nodejs from another source (e.g. NodeSource, which bundles npm)
        # conflicts with Debian's npm package: a working command is enough
        case $p in
            nodejs) command -v node >/dev/null 2>&1 && continue ;;
            npm) command -v npm >/dev/null 2>&1 && continue ;;
        esac
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing from Debian: ${missing[*]}" >&2
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >&2
}

# shellcheck disable=SC2086
nexus_need_build_deps() { nexus_install_pkgs $NEXUS_BUILD_PKGS; }
nexus_need_run_deps() { nexus_install_pkgs $NEXUS_BUILD_PKGS $NEXUS_RUN_PKGS; }
nexus_need_test_deps() {
    nexus_install_pkgs $NEXUS_BUILD_PKGS $NEXUS_RUN_PKGS $NEXUS_TEST_PKGS
}
nexus_need_bench_deps() {
    nexus_install_pkgs $NEXUS_BUILD_PKGS $NEXUS_RUN_PKGS $NEXUS_BENCH_PKGS
}
