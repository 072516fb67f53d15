# hgrpcd container image. Every RUN step calls a repository script, so CI
# exercises the same steps (scripts/test runs tests/deploy/dockerfile_test.sh).

# --- build stage: the same install and build steps as CI -------------------
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/install-deps
RUN scripts/build-release /out

# --- runtime stage: runtime libraries and the binaries only ----------------
FROM debian:12-slim AS runtime
COPY scripts/install-runtime-deps scripts/runtime-packages /usr/local/lib/hgrpcd/
RUN /usr/local/lib/hgrpcd/install-runtime-deps
COPY --from=build /out/bin/hgrpcd /out/bin/hgrpc /usr/local/bin/
RUN /usr/local/lib/hgrpcd/install-runtime-deps --add-user

USER hgrpcd
ENV HGRPCD_LISTEN=0.0.0.0 \
    HGRPCD_PORT=8080
EXPOSE 8080
STOPSIGNAL SIGTERM
# The slim image has no curl: bash's /dev/tcp asks /healthz directly.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HGRPCD_PORT} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '^ok' <&3"]
ENTRYPOINT ["/usr/local/bin/hgrpcd"]
