# cb2ac's container image: `make image` (or docker build --build-arg VERSION=... .).
# README "Running in a container" shows it run from cron and Airflow.
#
# The build stage compiles a static binary (no cgo, so no libc to ship; -trimpath, so
# no build machine's paths inside); the image is that binary on distroless static,
# which holds only the CA certificates (HTTPS to Chargebee, ActiveCampaign and the
# object store), tzdata and /etc/passwd with its nonroot user: no shell, no package
# manager. internal/cli TestDockerfile runs this file's go build line and checks the
# binary it makes is static.

ARG GO_VERSION=1.26

# The build runs on the builder's own platform and cross-compiles to the target's
# (docker buildx build --platform linux/amd64,linux/arm64), which is fast without cgo.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cb2ac .

# distroless static's nonroot variant: uid/gid 65532, home /home/nonroot.
FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/cb2ac /usr/local/bin/cb2ac
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 65532:65532
# The default data dir (./data) is relative: give --data-dir (a mounted volume or an
# object-storage URL) rather than rely on the working directory.
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/cb2ac"]
CMD ["--help"]
