package redisstore_test

import (
	"testing"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/digest/digesttest"
	"github.com/alertmail/alertmail/internal/redistest"
)

func TestDigestStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	digesttest.TestStore(t, func(t *testing.T) digest.Store {
		return newStore(t, srv, client).Digest()
	})
}

func TestDigestStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	digesttest.TestStore(t, func(t *testing.T) digest.Store {
		return newStore(t, srv, client).Digest()
	})
}
