#!/bin/sh
# The integration and security tests under the newest Node release: the HTTP/1.1 client-side suites run on
# both HTTP/1.1 servers (llhttp through _http_common, deprecated as DEP0199, and the node:http fallback),
# so a Node that moves or drops the internal, or changes node:http2's ordering, is noticed before users
# meet it.
#
# That Node is installed as an npm package into .node-current/, not as a devDependency: the `node`
# package's binary is called `node`, and two of them in node_modules would race for node_modules/.bin/node,
# which must stay the pinned Node 24 that every npm script runs on.
set -e
version="${NODE_CURRENT_VERSION:-26.10.0}"
dir=.node-current
bin="$dir/node_modules/node/bin/node"
if [ ! -x "$bin" ] || [ "$("$bin" --version)" != "v$version" ]; then
  echo "installing node@$version into $dir (npm) for the newest-Node run"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node@$version"
fi
echo "running the integration and security tests under $("$bin" --version)"
exec "$bin" node_modules/vitest/vitest.mjs run test/integration test/security
