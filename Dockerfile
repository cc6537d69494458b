# keepalived-ts as a drop-in keepalived container.
# Run on the host's network with the rights keepalived needs:
#   docker run -d --name keepalived --network host --cap-add NET_ADMIN --cap-add NET_RAW \
#     --cap-add NET_BROADCAST -v /etc/keepalived:/etc/keepalived:ro keepalived-ts
# The host must provide the ip_vs kernel module (modprobe ip_vs) for virtual servers.
FROM node:20-bookworm-slim AS build
WORKDIR /opt/keepalived-ts
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY binding.gyp* ./
COPY native ./native
COPY src ./src
COPY grammar ./grammar
COPY bench ./bench
COPY test ./test
COPY bin ./bin
# Debian's node headers are not in the node image: let node-gyp use the image's own.
RUN sed -i '/^nodedir=/d' .npmrc && npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 ipvsadm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/keepalived-ts
COPY --from=build /opt/keepalived-ts /opt/keepalived-ts
RUN ln -s /opt/keepalived-ts/bin/keepalived-ts /usr/local/sbin/keepalived \
    && ln -s /opt/keepalived-ts/bin/keepalived-ts /usr/local/bin/keepalived-ts
# -n: stay in the foreground (the container's PID 1 is the watchdog); -l: readable logs.
ENTRYPOINT ["keepalived", "--dont-fork", "--log-console"]
CMD ["--use-file", "/etc/keepalived/keepalived.conf"]
