// Who may do what on the cluster's frontend, by the role of the client certificate (infra/temporal/cluster/pki.ts
// issues one per role, the role as its common name):
//
//	system    the server's own worker role (config.yaml, global.tls.systemWorker) and the registration of the
//	          namespace and search attributes (cluster.ts): everything, as an administrator.
//	worker    the application: the saga worker (poll, complete, heartbeat, answer queries) and whoever starts and
//	          cancels sagas on its behalf (the CLI's start and cancel, the demo); reads too; and the kit's recovery
//	          sweep, which runs in the worker: it terminates a run stuck on a failing workflow task, starts its recovery
//	          run, and keeps its own schedule. Not updates (decisions are the operator's).
//	operator  reads, and the kit's two dead-letter decisions (updates retryCompensation and resolveCompensation),
//	          nothing else: it cannot start, cancel, terminate or signal a saga.
//	reader    the read-only calls only: list, count, describe, query, history.
//
// Any other certificate (a verified one of the CA with another name) and a call without a certificate get nothing
// but the health checks. The client's CA is the only CA the frontend trusts (requireClientAuth), so a certificate's
// subject is only seen here once its chain is verified.
package main

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/primitives"
)

const (
	roleSystem   = "system"
	roleWorker   = "worker"
	roleOperator = "operator"
	roleReader   = "reader"
)

// The kit's operator decisions: packages/saga-kit/src/workflow/operator.ts (sagaMessages.retryCompensation and
// .resolveCompensation); test/deploy/cluster-roles.test.ts checks that the two lists agree.
var operatorDecisionUpdates = map[string]bool{
	"retryCompensation":   true,
	"resolveCompensation": true,
}

// What a saga worker calls besides reads: the task queue polls and their answers, heartbeats, and its own lifecycle.
var workerCalls = methodSet(
	"PollWorkflowTaskQueue", "RespondWorkflowTaskCompleted", "RespondWorkflowTaskFailed",
	"PollActivityTaskQueue", "RespondActivityTaskCompleted", "RespondActivityTaskFailed", "RespondActivityTaskCanceled",
	"RecordActivityTaskHeartbeat", "RespondQueryTaskCompleted",
	"ResetStickyTaskQueue", "ShutdownWorker", "RecordWorkerHeartbeat",
)

// What the application does to sagas from outside: start one, and ask one to cancel (it compensates); and what the
// recovery sweep does: terminate a stuck run (its recovery run then undoes or finishes what it left), and create or
// update the sweep's schedule.
var applicationCalls = methodSet(
	"StartWorkflowExecution", "RequestCancelWorkflowExecution",
	"TerminateWorkflowExecution", "CreateSchedule", "UpdateSchedule",
)

func methodSet(names ...string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[api.WorkflowServicePrefix+n] = true
	}
	return set
}

// certificateClaimMapper takes the role from the verified client certificate's common name. Only the system role is
// also a Temporal role (admin); the others are decided by roleAuthorizer, call by call.
type certificateClaimMapper struct{}

func newCertificateClaimMapper() authorization.ClaimMapper { return certificateClaimMapper{} }

func (certificateClaimMapper) GetClaims(info *authorization.AuthInfo) (*authorization.Claims, error) {
	claims := &authorization.Claims{AuthType: "mtls"}
	if info == nil || info.TLSSubject == nil {
		return claims, nil // a bearer token without a certificate: no role
	}
	claims.Subject = info.TLSSubject.CommonName
	if claims.Subject == roleSystem {
		claims.System = authorization.RoleAdmin
	}
	return claims, nil
}

type roleAuthorizer struct{}

func newRoleAuthorizer() authorization.Authorizer { return roleAuthorizer{} }

func (roleAuthorizer) Authorize(_ context.Context, claims *authorization.Claims, target *authorization.CallTarget) (authorization.Result, error) {
	if authorization.IsHealthCheckAPI(target.APIName) {
		return authorization.Result{Decision: authorization.DecisionAllow}, nil
	}
	if claims == nil || claims.Subject == "" {
		return deny("no client certificate"), nil
	}
	if claims.System == authorization.RoleAdmin {
		return allow(claims), nil
	}
	role := claims.Subject
	// The server's own namespace (its system workflows) is the system role's alone.
	if target.Namespace == primitives.SystemLocalNamespace {
		return deny(fmt.Sprintf("%s may not use namespace %s", role, target.Namespace)), nil
	}
	metadata := api.GetMethodMetadata(target.APIName)
	readOnly := metadata.Scope != api.ScopeUnknown && metadata.Access == api.AccessReadOnly
	var allowed bool
	switch role {
	case roleReader:
		allowed = readOnly
	case roleOperator:
		allowed = readOnly || isOperatorDecision(target)
	case roleWorker:
		allowed = readOnly || workerCalls[target.APIName] || applicationCalls[target.APIName]
	default:
		return deny(fmt.Sprintf("certificate %q has no role here", role)), nil
	}
	if !allowed {
		return deny(fmt.Sprintf("%s may not call %s%s", role, api.MethodName(target.APIName), updateName(target))), nil
	}
	return allow(claims), nil
}

// An UpdateWorkflowExecution whose update is one of the kit's dead-letter decisions.
func isOperatorDecision(target *authorization.CallTarget) bool {
	if target.APIName != api.WorkflowServicePrefix+"UpdateWorkflowExecution" {
		return false
	}
	request, ok := target.Request.(*workflowservice.UpdateWorkflowExecutionRequest)
	return ok && operatorDecisionUpdates[request.GetRequest().GetInput().GetName()]
}

// " (update x)" for a refused update, so that the refusal names what was asked.
func updateName(target *authorization.CallTarget) string {
	if request, ok := target.Request.(*workflowservice.UpdateWorkflowExecutionRequest); ok {
		return fmt.Sprintf(" (update %s)", request.GetRequest().GetInput().GetName())
	}
	return ""
}

func allow(claims *authorization.Claims) authorization.Result {
	return authorization.Result{
		Decision:  authorization.DecisionAllow,
		Principal: &commonpb.Principal{Type: claims.AuthType, Name: claims.Subject},
	}
}

func deny(reason string) authorization.Result {
	return authorization.Result{Decision: authorization.DecisionDeny, Reason: reason}
}
