package redisstore_test

import (
	"testing"

	"github.com/alertmail/alertmail/digest"
	"github.com/alertmail/alertmail/internal/redistest"
	"github.com/alertmail/alertmail/internal/storetest"
)

func TestDigestStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	storetest.DigestStore(t, func(t *testing.T) digest.Store {
		return newStore(t, srv, client).Digest()
	})
}

func TestDigestStoreConformanceCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.StartCluster(t)
	client := srv.ClusterClient(t)
	storetest.DigestStore(t, func(t *testing.T) digest.Store {
		return newStore(t, srv, client).Digest()
	})
}
