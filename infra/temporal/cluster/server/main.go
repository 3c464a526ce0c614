// The project's Temporal server: the real server of go.temporal.io/server (the same release as cmd/server), started
// the way cmd/server starts it, with one difference: when config.yaml asks for it (global.authorization.authorizer:
// saga-roles, set together with mTLS), the frontend maps the verified client certificate to a role and authorizes
// each call by that role (roles.go). The stock server cannot do that: its default authorizer takes roles from JWTs
// only, and treats an update (an operator's decision) as the same write access as starting a workflow.
//
// Flags are cmd/server's: --config-file, --allow-no-auth, `start --service <role>`, --version.
package main

import (
	"fmt"
	"os"
	"strings"
	_ "time/tzdata" // embed tzdata as a fallback, as cmd/server does

	"github.com/urfave/cli/v2"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/headers"
	"go.temporal.io/server/common/log"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the cluster's store
	"go.temporal.io/server/temporal"
)

// The value of global.authorization.authorizer (and claimMapper) in config.yaml that turns the roles on.
const sagaRolesAuthorization = "saga-roles"

func main() {
	app := &cli.App{
		Name:    "temporal-saga-server",
		Usage:   "Temporal server with certificate roles (infra/temporal/cluster/server)",
		Version: headers.ServerVersion,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config-file", Usage: "path to the config file", Required: true},
			&cli.BoolFlag{Name: "allow-no-auth", Usage: "accepted for cmd/server's command line; no authorizer when the config sets none"},
		},
		Commands: []*cli.Command{{
			Name:  "start",
			Usage: "Start Temporal server",
			Flags: []cli.Flag{
				&cli.StringSliceFlag{Name: "service", Value: cli.NewStringSlice(temporal.DefaultServices...), Usage: "service(s) to start"},
			},
			Action: start,
		}},
	}
	if err := app.Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func start(c *cli.Context) error {
	cfg, err := config.Load(config.WithConfigFile(c.String("config-file")))
	if err != nil {
		return cli.Exit(fmt.Sprintf("Unable to load configuration: %v.", err), 1)
	}
	logger := log.NewZapLogger(log.BuildZapLogger(cfg.Log))

	authorizer, claimMapper, err := authorizationFromConfig(&cfg.Global.Authorization, logger)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	s, err := temporal.NewServer(
		temporal.ForServices(c.StringSlice("service")),
		temporal.WithConfig(cfg),
		temporal.WithLogger(logger),
		temporal.InterruptOn(temporal.InterruptCh()),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
	)
	if err != nil {
		return cli.Exit(fmt.Sprintf("Unable to create server. Error: %v.", err), 1)
	}
	if err := s.Start(); err != nil {
		return cli.Exit(fmt.Sprintf("Unable to start server. Error: %v", err), 1)
	}
	return cli.Exit("All services are stopped.", 0)
}

// The certificate roles when the config names them (both settings, so that a half-configured file is an error rather
// than a server that lets everyone in); otherwise the stock choices (none, or the JWT "default" ones).
func authorizationFromConfig(c *config.Authorization, logger log.Logger) (authorization.Authorizer, authorization.ClaimMapper, error) {
	authorizerIsOurs := strings.EqualFold(c.Authorizer, sagaRolesAuthorization)
	mapperIsOurs := strings.EqualFold(c.ClaimMapper, sagaRolesAuthorization)
	if authorizerIsOurs != mapperIsOurs {
		return nil, nil, fmt.Errorf("global.authorization: authorizer and claimMapper must both be %q (or neither)", sagaRolesAuthorization)
	}
	if authorizerIsOurs {
		return newRoleAuthorizer(), newCertificateClaimMapper(), nil
	}
	authorizer, err := authorization.GetAuthorizerFromConfig(c)
	if err != nil {
		return nil, nil, fmt.Errorf("Unable to instantiate authorizer. Error: %v", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(c, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("Unable to instantiate claim mapper: %v.", err)
	}
	return authorizer, claimMapper, nil
}
