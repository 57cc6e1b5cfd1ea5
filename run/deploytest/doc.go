// Package deploytest holds the offline checks of how hookrun's services are
// built and deployed: the image Dockerfile of ingest and the dispatcher
// (run/Dockerfile), cloudbuild.yaml, and scripts/deploy. None of them can
// run here, with no Docker engine and no cloud, so the tests check what can
// be checked without: that the files parse, that everything they name
// exists and agrees with infra/, that each Dockerfile's go build builds a
// static binary, and that scripts/deploy --dry-run prints the whole
// deployment in order without calling gcloud or terraform. The package has
// no code outside its tests.
package deploytest
