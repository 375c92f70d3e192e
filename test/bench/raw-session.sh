#!/usr/bin/env bash
# The engine's own floor for the start sequence drydock's jail requires, with no Compose and no
# drydock (`npm run bench -- --only=start`, one round per call): the docker CLI only, independent
# steps at once. A session network; the hardened sidecar (drydock's image and rendered files)
# healthy BEFORE the agent starts; the namespace holder; the agent in its namespace; one exec;
# everything removed before the script ends. The health wait polls as fast as the CLI can.
# Usage: raw-session.sh RENDERED_DIR AGENT_IMAGE EGRESS_IMAGE   (RENDERED_DIR: drydock render --out)
set -euo pipefail
dir=$1 agent_image=$2 egress_image=$3
id=drydock-raw-$RANDOM net=drydock_raw_$RANDOM
docker network create --internal -o com.docker.network.bridge.inhibit_ipv4=true "$net" >/dev/null
docker create --name "$id-egress" --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges:true --read-only \
  --tmpfs /run:size=32m --tmpfs /tmp:size=32m --sysctl net.ipv4.ip_unprivileged_port_start=53 \
  -v "$dir/egress:/etc/drydock:ro" -v "$dir/resolv.conf:/etc/resolv.conf:ro" --network "$net" \
  --health-cmd /usr/local/bin/drydock-egress-healthcheck --health-interval 100ms --health-timeout 10s \
  --health-retries 3 --health-start-period 15s "$egress_image" >/dev/null &
docker run -d --name "$id-netns" --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges:true --read-only --init \
  --network "$net" --entrypoint sleep "$egress_image" infinity >/dev/null &
wait
docker network connect drydock_egress "$id-egress"
docker start "$id-egress" >/dev/null
until [ "$(docker inspect -f '{{.State.Health.Status}}' "$id-egress")" = healthy ]; do :; done
docker run -d --name "$id" --network "container:$id-netns" --cap-drop ALL --security-opt no-new-privileges:true --init \
  "$agent_image" sleep infinity >/dev/null
docker exec "$id" true
docker rm -f "$id" "$id-netns" "$id-egress" >/dev/null
docker network rm "$net" >/dev/null
