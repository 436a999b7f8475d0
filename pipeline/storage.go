package pipeline

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/cb2ac/cb2ac/internal/atomicfile"
	"github.com/cb2ac/cb2ac/schemas"
)

// Storage is a data dir that is not a folder on this machine: a bucket prefix
// (s3://, gs://, azblob://, file:///). Keys are slash-separated and relative to the
// data dir ("state.json", "runs/<id>/manifest.json"). A plain path never goes
// through it: the folder code (atomicfile, flock) is kept as it is.
//
// An implementation must, for every driver it serves:
//
//   - Get: return the whole object and its version (ETag, GCS generation), or
//     an error matching fs.ErrNotExist when there is none.
//   - Put: make the object appear whole or not at all, with meta attached: one
//     PUT of a complete body (an upload cut half way leaves the old object or
//     none, never a partial one).
//   - PutIf: write only if the object's current version is version ("" = only if
//     absent), else return *PreconditionError; return the new version. Done by
//     the store itself (If-Match / If-None-Match, GCS generation match), not by a
//     read before the write, wherever the store can.
//   - Open: random access by ranged reads (never a download of the whole
//     object), with the size from one metadata request.
//   - Stat: size and the metadata Put attached, or fs.ErrNotExist.
//   - List: every key under a prefix, at any depth.
//   - Delete: remove one key; an absent key is not an error.
//   - Close: release the client.
//
// The tests in storage_test.go run this list against memblob, fileblob and an
// in-process S3 server; a new driver passes them before it is used.
type Storage interface {
	URL() string
	Get(ctx context.Context, key string) (b []byte, version string, err error)
	Put(ctx context.Context, key string, r io.Reader, meta map[string]string) error
	PutIf(ctx context.Context, key string, b []byte, version string) (newVersion string, err error)
	Open(ctx context.Context, key string) (schemas.File, error)
	Stat(ctx context.Context, key string) (size int64, meta map[string]string, err error)
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, key string) error
	Close() error
}

// PreconditionError says an object changed since its version was read: another
// writer got there first, and nothing was overwritten.
type PreconditionError struct {
	Key, URL string
}

func (e *PreconditionError) Error() string {
	return fmt.Sprintf("%s in %s changed since this cb2ac read it (another cb2ac or a person wrote it); nothing was overwritten", e.Key, e.URL)
}

// IsDataURL reports whether a data_dir names object storage rather than a folder.
func IsDataURL(dataDir string) bool {
	u, err := url.Parse(dataDir)
	return err == nil && len(u.Scheme) > 1 && strings.Contains(dataDir, "://")
}

// OpenStorage opens a data dir URL: s3://bucket/prefix, gs://bucket/prefix,
// azblob://container/prefix, file:///abs/path (and mem://, for tests). The query
// passes to gocloud.dev's driver unchanged (s3: endpoint, region, use_path_style),
// and credentials come from each cloud SDK's default chain.
func OpenStorage(ctx context.Context, dataURL string) (Storage, error) {
	u, err := url.Parse(dataURL)
	if err != nil {
		return nil, fmt.Errorf("data dir %q: %w", dataURL, err)
	}
	open := *u
	var prefix string
	switch u.Scheme {
	case "file":
		// fileblob's URL path is the folder itself.
		if u.Host != "" {
			return nil, fmt.Errorf("data dir %q: want file:///absolute/path", dataURL)
		}
		// As a plain path's data dir, created at first use (0700: customer data).
		if err := os.MkdirAll(filepath.FromSlash(u.Path), atomicfile.DirMode); err != nil {
			return nil, fmt.Errorf("data dir %s: %w", dataURL, err)
		}
	case "s3", "gs", "azblob", "mem":
		if u.Host == "" && u.Scheme != "mem" {
			return nil, fmt.Errorf("data dir %q: no bucket named (want %s://bucket/prefix)", dataURL, u.Scheme)
		}
		// The bucket URL of gocloud.dev carries no path; the path is the prefix.
		prefix = strings.Trim(u.Path, "/")
		open.Path = ""
	default:
		return nil, fmt.Errorf("data dir %q: scheme %s is not one of s3, gs, azblob, file", dataURL, u.Scheme)
	}
	b, err := blob.OpenBucket(ctx, open.String())
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", redactURL(u), err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix+"/")
	}
	// S3, GCS and Azure refuse a write whose precondition fails; the local
	// drivers cannot be asked to.
	conditional := u.Scheme == "s3" || u.Scheme == "gs" || u.Scheme == "azblob"
	return &blobStore{b: b, url: redactURL(u), conditional: conditional}, nil
}

// redactURL is the data dir URL for messages and manifests: without its query,
// which can name an endpoint but must never carry anything else into a file.
func redactURL(u *url.URL) string {
	c := *u
	c.RawQuery, c.User = "", nil
	return c.String()
}

// blobStore is Storage over a gocloud.dev bucket.
type blobStore struct {
	b           *blob.Bucket
	url         string
	conditional bool // PutIf is checked by the store itself
	// rangeBytes counts the bytes read through Open, so a test can tell a ranged
	// read from a download.
	rangeBytes atomic.Int64
}

func (s *blobStore) URL() string  { return s.url }
func (s *blobStore) Close() error { return s.b.Close() }

func notExist(err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
	}
	return err
}

func (s *blobStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	r, err := s.b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, "", notExist(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, "", err
	}
	// The version is read after the body: if the object changed in between,
	// the later version is remembered and a write based on the older body fails
	// its precondition only if there is yet another write; never silently wins
	// over one.
	a, err := s.b.Attributes(ctx, key)
	if err != nil {
		return nil, "", notExist(err)
	}
	return b, s.version(a), nil
}

// version is what a conditional write compares: GCS's generation (its ETag is
// not accepted as a precondition), S3's and Azure's ETag. The local drivers'
// ETag is the modification time and size, which two quick writes of one size
// can share: their content's MD5 is added.
func (s *blobStore) version(a *blob.Attributes) string {
	var gcs storage.ObjectAttrs
	if a.As(&gcs) {
		return strconv.FormatInt(gcs.Generation, 10)
	}
	if !s.conditional && len(a.MD5) > 0 {
		return a.ETag + "/" + hex.EncodeToString(a.MD5)
	}
	return a.ETag
}

func (s *blobStore) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) error {
	// gocloud's writer uploads on Close; a failed copy cancels the context
	// first, which aborts the upload, so no partial object is ever committed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.b.NewWriter(ctx, key, &blob.WriterOptions{Metadata: meta, ContentType: contentType(key)})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		w.Close()
		return err
	}
	return w.Close()
}

func contentType(key string) string {
	switch path.Ext(key) {
	case ".json":
		return "application/json"
	case ".csv":
		return "text/csv"
	case ".jsonl":
		return "application/jsonl"
	}
	return "application/octet-stream"
}

func (s *blobStore) PutIf(ctx context.Context, key string, b []byte, ver string) (string, error) {
	opts := &blob.WriterOptions{ContentType: contentType(key), IfNotExist: ver == ""}
	if ver != "" && s.conditional {
		opts.BeforeWrite = func(as func(any) bool) error {
			var s3in *transfermanager.UploadObjectInput
			var gcsObj **storage.ObjectHandle
			var az *azblob.UploadStreamOptions
			switch {
			case as(&s3in):
				s3in.IfMatch = &ver
			case as(&gcsObj):
				gen, err := strconv.ParseInt(ver, 10, 64)
				if err != nil {
					return fmt.Errorf("%s: bad generation %q", key, ver)
				}
				*gcsObj = (*gcsObj).If(storage.Conditions{GenerationMatch: gen})
			case as(&az):
				etag := azcore.ETag(ver)
				if az.AccessConditions == nil {
					az.AccessConditions = &azblob.AccessConditions{}
				}
				if az.AccessConditions.ModifiedAccessConditions == nil {
					az.AccessConditions.ModifiedAccessConditions = &azblobblob.ModifiedAccessConditions{}
				}
				az.AccessConditions.ModifiedAccessConditions.IfMatch = &etag
			default:
				return fmt.Errorf("%s: the storage driver offers no conditional write", key)
			}
			return nil
		}
	}
	if ver != "" && !s.conditional {
		// fileblob and memblob have no conditional replace: their version is
		// checked just before the write. Both are single-machine stores, used
		// under the lock; the window between check and write is theirs alone.
		if a, err := s.b.Attributes(ctx, key); err != nil || s.version(a) != ver {
			return "", &PreconditionError{Key: key, URL: s.url}
		}
	}
	if err := s.b.WriteAll(ctx, key, b, opts); err != nil {
		if gcerrors.Code(err) == gcerrors.FailedPrecondition || strings.Contains(err.Error(), "PreconditionFailed") {
			return "", &PreconditionError{Key: key, URL: s.url}
		}
		return "", err
	}
	a, err := s.b.Attributes(ctx, key)
	if err != nil {
		return "", err
	}
	return s.version(a), nil
}

func (s *blobStore) Stat(ctx context.Context, key string) (int64, map[string]string, error) {
	a, err := s.b.Attributes(ctx, key)
	if err != nil {
		return 0, nil, notExist(err)
	}
	return a.Size, a.Metadata, nil
}

func (s *blobStore) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := s.b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if err == io.EOF {
			return keys, nil
		}
		if err != nil {
			return nil, err
		}
		if !o.IsDir {
			keys = append(keys, o.Key)
		}
	}
}

func (s *blobStore) Delete(ctx context.Context, key string) error {
	if err := s.b.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return err
	}
	return nil
}

func (s *blobStore) Open(ctx context.Context, key string) (schemas.File, error) {
	a, err := s.b.Attributes(ctx, key)
	if err != nil {
		return nil, notExist(err)
	}
	return &blobFile{s: s, ctx: ctx, key: key, size: a.Size}, nil
}

// blobFile is a schemas.File whose every ReadAt is one ranged GET.
type blobFile struct {
	s    *blobStore
	ctx  context.Context
	key  string
	size int64
}

func (f *blobFile) Size() int64  { return f.size }
func (f *blobFile) Close() error { return nil }

func (f *blobFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), f.size-off)
	r, err := f.s.b.NewRangeReader(f.ctx, f.key, off, n, nil)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", f.key, err)
	}
	defer r.Close()
	got, err := io.ReadFull(r, p[:n])
	f.s.rangeBytes.Add(int64(got))
	if err != nil {
		return got, fmt.Errorf("read %s: %w", f.key, err)
	}
	if got < len(p) {
		return got, io.EOF
	}
	return got, nil
}
