// The plugin's help texts.

const CLUSTER_FLAGS = `  -n, --namespace NS     the app's namespace (default: the context's namespace, else "default")
      --context NAME     the kubeconfig context to use (default: the current context)
      --kubeconfig FILE  the kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
`;

export const USAGE = `kubectl sapp: look at and into ScalableApps (the scalable-app-operator's kubectl plugin)

Usage: kubectl sapp <command> [NAME] [options]

Commands:
  status NAME            conditions, pods per tier with their replication roles, each group's primary and
                         last failover, endpoints and URL
  credentials NAME       the connection URLs the app's pods load and the data tier's passwords (masked
                         unless --show)
  mysql NAME [-- ARGS]   a MySQL client in the database's primary pod (--replica, --shard N, --user root)
  redis NAME [-- ARGS]   redis-cli in the Redis primary pod (--replica)
  render -f FILE         print every object the operator would create for the ScalableApps in FILE
  help                   show this help

Options of every command over an app:
${CLUSTER_FLAGS}
Run kubectl sapp <command> --help for a command's own options. mysql and redis run $KUBECTL (default: kubectl
on the PATH) for the session.
`;

const USAGES = {
  status: `Usage: kubectl sapp status NAME [-n NS]

Shows the app's conditions; its pods per tier (web, workers, each database group, the cache) with their
replication roles (the scalable.dev/replication-role label the operator sets); each database group's primary as
status records it, and its last failover; the endpoints clients use and the URL users reach.

${CLUSTER_FLAGS}`,
  credentials: `Usage: kubectl sapp credentials NAME [-n NS] [--show]

Prints the connection settings the app's pods load (Secret <app>-binding: REDIS_URL, DATABASE_WRITE_URL, ...)
and the data tier's passwords (Secret <app>-credentials). Passwords are masked unless --show.

      --show             print the passwords
${CLUSTER_FLAGS}`,
  mysql: `Usage: kubectl sapp mysql NAME [-n NS] [--replica] [--shard N] [--user app|root] [-- CLIENT-ARGS]

Opens the mariadb (or mysql) client of the database image in the pod serving as primary (the pod labelled
scalable.dev/replication-role=primary), or a replica, on the app's database. The password comes from the
container's environment and reaches the client on a pipe: it is in no argument list. Standard input that is
not a terminal is passed on: kubectl sapp mysql shop < script.sql

      --replica          a replica (a ready one first) instead of the primary
      --shard N          shard N's group instead of the main database
  -u, --user USER        app (default: the app's account) or root (the server's root, local socket only)
${CLUSTER_FLAGS}
Example: kubectl sapp mysql shop -n shop -- -e 'SHOW REPLICA STATUS\\G'
`,
  redis: `Usage: kubectl sapp redis NAME [-n NS] [--replica] [-- REDIS-CLI-ARGS]

Opens redis-cli in the Redis pod serving as primary (or a replica). redis-cli authenticates with the
container's REDISCLI_AUTH: the password is in no argument list.

      --replica          a replica (a ready one first) instead of the primary
${CLUSTER_FLAGS}
Example: kubectl sapp redis shop -n shop -- info replication
`,
} as const;

export const usageOf = (command: keyof typeof USAGES): string => USAGES[command];
