#!/bin/sh
# A stand-in for nft (no root, no kernel): records each `-f -` transaction into $1 (separated by a line
# `---`), and refuses every transaction, as nft does, while the file $2 exists. Usage: fake-nft.sh LOG FAIL ARGS...
log="$1"; fail="$2"; shift 2
case "$*" in
  --version) echo "nftables v1.0.6 (fake)"; exit 0 ;;
  "-j -t list "*) echo '{"nftables": [{"metainfo": {"json_schema_version": 1}}]}'; exit 0 ;;
  "-f -")
    if [ -e "$fail" ]; then
      cat > /dev/null
      echo "/dev/stdin:3:1-9: Error: Could not process rule: No such file or directory" >&2
      echo "flush chain ip switchyard service-gone" >&2
      exit 1
    fi
    cat >> "$log"; echo "---" >> "$log"; exit 0 ;;
esac
echo "fake nft: unexpected arguments: $*" >&2
exit 2
