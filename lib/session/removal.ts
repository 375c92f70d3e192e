/**
 * Removing a set of containers and networks with a constant number of docker calls, whatever the
 * number of sessions they belong to; each failure comes back with the command that finishes the job.
 */
import type { Docker } from '../docker/client.js';
import type { ContainerRecord, NetworkRecord } from '../docker/listing.js';

export interface RemovalOutcome {
  removedContainers: string[];
  removedNetworks: string[];
  failures: string[];
}

/** Containers first (a network cannot go while something is attached), each kind in ONE call. */
export async function removeObjects(options: {
  docker: Docker;
  containers: ReadonlyArray<Pick<ContainerRecord, 'id' | 'name'>>;
  networks: ReadonlyArray<Pick<NetworkRecord, 'id' | 'name'>>;
}): Promise<RemovalOutcome> {
  const { docker } = options;
  const nameOf = new Map<string, string>();
  for (const c of [...options.containers, ...options.networks]) nameOf.set(c.id, c.name || c.id);
  const outcome: RemovalOutcome = { removedContainers: [], removedNetworks: [], failures: [] };

  const containers = await docker.removeContainers(options.containers.map((c) => c.id));
  outcome.removedContainers = containers.removed.map((id) => nameOf.get(id) ?? id);
  for (const f of containers.failed) {
    const name = nameOf.get(f.id) ?? f.id;
    outcome.failures.push(`could not remove container ${name}: ${f.message} — remove it with: docker rm -f ${name}`);
  }
  const networks = await docker.removeNetworks(options.networks.map((n) => n.id));
  outcome.removedNetworks = networks.removed.map((id) => nameOf.get(id) ?? id);
  for (const f of networks.failed) {
    const name = nameOf.get(f.id) ?? f.id;
    outcome.failures.push(`could not remove network ${name}: ${f.message} — remove it with: docker network rm ${name}`);
  }
  return outcome;
}
