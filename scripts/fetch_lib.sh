# Sourced by the fetch_*.sh scripts: retries for network steps, and a private apt state on this machine's own
# Debian mirror (nothing system-wide changes). Mirrors and proxies fail transiently ("InRelease ... not signed"
# when a download is cut short): every network step is tried 4 times, with the half-fetched files removed between.

# retry WHAT CMD...: run CMD up to 4 times, 5/10/15 s apart; on the last failure print one line naming WHAT.
retry() {
    local what=$1; shift
    local attempt
    for attempt in 1 2 3 4; do
        if "$@"; then return 0; fi
        if [ "$attempt" = 4 ]; then echo "fetch: $what failed 4 times" >&2; return 1; fi
        echo "fetch: $what failed (try $attempt of 4); retrying" >&2
        [ -n "${RETRY_CLEAN:-}" ] && rm -rf $RETRY_CLEAN
        sleep $((attempt * 5))
    done
}

# debian_mirror: the first non-security Debian URI this machine's apt uses.
debian_mirror() {
    grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
        | grep -v -i security | grep -o -E 'https?://[^ ]+/debian' | head -n1 || true
}

# private_apt CACHE SUITE: set APT_OPTS to an apt state under CACHE that reads only "$MIRROR SUITE main".
private_apt() {
    local cache=$1 suite=$2 mirror
    mirror=$(debian_mirror)
    if [ -z "$mirror" ]; then echo "fetch: no Debian mirror configured in /etc/apt" >&2; return 1; fi
    mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/apt/etc"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$cache/apt/etc/sources.list"
    APT_OPTS=(-o "Dir::Etc::SourceList=$cache/apt/etc/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
              -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache" -o "Debug::NoLocking=1"
              -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root" -o "Acquire::Retries=3")
}

# apt_update CACHE: `apt-get update` on the private state, retried from empty lists each time.
apt_update() {
    local cache=$1
    RETRY_CLEAN="$cache/apt/lists/*" retry "apt-get update ($cache)" \
        bash -c 'mkdir -p "$0/apt/lists/partial" && apt-get -qq "${@}" update >&2' "$cache" "${APT_OPTS[@]}"
}

# fetch_debs CACHE SUITE HOW PACKAGE...: Debian SUITE's PACKAGEs extracted with dpkg-deb into a fresh CACHE/root,
# through the private apt state above. HOW is `closure` (apt-get install --download-only: the packages and what this
# machine lacks of their dependencies) or `alone` (apt-get download: only the packages, into CACHE/debs). The apt state
# and the .deb files are removed afterwards (FETCHED_DEBS keeps their paths, for messages); the caller checks
# CACHE/root for what it needs.
fetch_debs() {
    local cache=$1 suite=$2 how=$3 debs deb; shift 3
    private_apt "$cache" "$suite"
    apt_update "$cache"
    case "$how" in
        closure)
            RETRY_CLEAN="$cache/apt/cache/archives/partial/*" retry "apt-get install --download-only $*" \
                apt-get -qq "${APT_OPTS[@]}" install --download-only --no-install-recommends -y "$@" >&2
            debs="$cache/apt/cache/archives" ;;
        alone)
            debs="$cache/debs"
            rm -rf "$debs" && mkdir -p "$debs"
            (cd "$debs" && RETRY_CLEAN="$debs/*.deb" retry "apt-get download $*" \
                apt-get -qq "${APT_OPTS[@]}" download "$@" >&2) ;;
        *) echo "fetch_debs: HOW is closure or alone, not $how" >&2; return 2 ;;
    esac
    rm -rf "$cache/root" && mkdir -p "$cache/root"
    FETCHED_DEBS=("$debs"/*.deb)
    for deb in "${FETCHED_DEBS[@]}"; do dpkg-deb -x "$deb" "$cache/root"; done
    rm -rf "$cache/apt" "$cache/debs"
}
