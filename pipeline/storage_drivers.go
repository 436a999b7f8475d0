package pipeline

// The drivers --data-dir URLs can name. Each registers its scheme with
// gocloud.dev/blob; credentials come from each SDK's default chain.
import (
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"
)
