// Package infracheck holds the offline checks of hookrun's deployment files:
// the Terraform in infra/, cloudbuild.yaml and the scripts. No Terraform
// provider can be downloaded where the tests run, so `terraform validate` is
// out of reach; these tests check what can be checked without one, as
// ordinary Go tests so that scripts/test runs them:
//
//   - every .tf file parses and is formatted as terraform fmt would format it;
//   - every var., local., resource, data and module reference resolves, and
//     every variable is used and described;
//   - every environment variable a service's code reads is set on its Cloud
//     Run service (or listed in local.local_only_env), and infra sets none
//     that no code reads;
//   - a variable's default that infra passes to a service, and a default
//     the README's Configuration tables give, is the one the code declares
//     (its `envDefault` tag), so that a default changed in one place fails;
//   - every composite index firestore.CompositeIndexes declares, and every
//     TTL field firestore.TTLPolicies declares, exists in infra;
//   - every alert condition's threshold and duration is a variable, every
//     hookrun metric infra names is an instrument of the services, and the
//     README's table of alert variables gives variables.tf's defaults;
//   - every path, Dockerfile and script cloudbuild.yaml names exists, and
//     every Cloud Run service it deploys is declared in infra;
//   - every script in scripts/ answers -h and --help with its usage, and
//     builds, starts and writes nothing when asked only that.
//
// Each check also runs on small fixtures, good and broken, and on a broken
// copy of the real files, so that a check that can no longer fail is
// noticed. The package has no code outside its tests.
package infracheck
