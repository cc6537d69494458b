# keepalived-ts as a drop-in keepalived container image.
#   docker build -t keepalived-ts .
#   docker run -d --name keepalived --network host --cap-add NET_ADMIN --cap-add NET_RAW \
#     --cap-add NET_BROADCAST -v /etc/keepalived:/etc/keepalived:ro keepalived-ts
#   docker run --rm -v /etc/keepalived:/etc/keepalived:ro keepalived-ts keepalived -t -f /etc/keepalived/keepalived.conf
# The host must provide the ip_vs kernel module (modprobe ip_vs) for virtual servers.
#
# The build stage needs Node 20 with its headers, python3, make and g++ (node:20-bookworm has
# them all): the native addons are compiled against the image's own Node headers, nothing is
# downloaded but the npm packages. BUILD_BASE and RUN_BASE let a local base be used instead.
ARG BUILD_BASE=node:20-bookworm
ARG RUN_BASE=node:20-bookworm-slim

FROM ${BUILD_BASE} AS build
# `--build-arg npm_config_offline=true` with an npm cache mounted at /root/.npm builds with no
# network at all (the test suite does: test/kernel/build-image.sh)
ARG npm_config_offline
WORKDIR /src
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json binding.gyp ./
COPY tools ./tools
COPY native ./native
COPY grammar ./grammar
COPY src ./src
COPY bin ./bin
COPY man ./man
COPY packaging ./packaging
# npm ci builds dist/ (prepare: tsc, then dist/bundle/, what bin/keepalived-ts runs) and the
# addons (tools/node-gyp.mjs finds the headers); the tarball then holds only what runs
# (package.json "files"), installed with the production dependencies into /opt/keepalived-ts.
RUN npm ci --no-audit --no-fund \
    && npm pack --ignore-scripts --pack-destination /tmp \
    && npm install -g --offline --prefix /opt/keepalived-ts /tmp/keepalived-ts-*.tgz \
    && find /opt/keepalived-ts/lib/node_modules -path '*/build/Release/obj.target' -prune -exec rm -rf {} + \
    && rm -rf /opt/keepalived-ts/lib/node_modules/keepalived-ts/build/Release/.deps

FROM ${RUN_BASE}
COPY --from=build /opt/keepalived-ts /opt/keepalived-ts
COPY packaging/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN ln -s /opt/keepalived-ts/bin/keepalived-ts /usr/local/sbin/keepalived \
    && ln -s /opt/keepalived-ts/bin/keepalived-ts /usr/local/bin/keepalived-ts
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["keepalived", "--dont-fork", "--log-console", "--use-file", "/etc/keepalived/keepalived.conf"]
