// Package deploy holds the tests of the two ways the sample receiver is
// deployed: as a Cloud Run function, from the source tree
// scripts/stage-receiver stages (scripts/deploy-receiver runs gcloud on it),
// and as a Cloud Run service, from the image functions/receiver/Dockerfile
// builds. Neither can be deployed here, so the tests check what can be
// checked without a cloud or a Docker engine. The package has no code.
package deploy
