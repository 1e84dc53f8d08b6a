# Lectern as a container image: a static binary on an empty base, run as an
# unprivileged user, with nothing else inside (no shell, no package manager).
#
#   docker build -t lectern .
#   docker run -p 8080:8080 -v lectern-data:/data -e LECTERN_SECRET=... lectern
#
# The same image runs every role: pass "auth", "api", "web", "migrate",
# "ingest /book" or "backup /data/backup.db" as the command.

# Build stage: the Go toolchain go.mod names.
FROM golang:1.27.3-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# CGO_ENABLED=0: the SQLite driver is pure Go, so the binary links nothing
# at run time. -trimpath keeps build paths out of the binary.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/lectern ./cmd/lectern \
	&& mkdir -p /out/data /out/tmp && chmod 1777 /out/tmp

# Run stage: only the binary, CA certificates (for HTTPS calls to a model or
# SMTP server) and two writable directories owned by the run-time user.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/lectern /lectern
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/tmp /tmp
USER 65532:65532
ENV LECTERN_ADDR=:8080 \
	LECTERN_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# Probes belong to the orchestrator: GET /healthz (alive) and /readyz
# (database reachable, book loaded). There is no shell for a HEALTHCHECK.
ENTRYPOINT ["/lectern"]
CMD ["serve"]
