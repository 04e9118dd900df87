import { Metrics } from './metrics';

/** The coordinator's metric families (PROTOCOL.md, admin API). */
export function defineMetrics(): Metrics {
  const m = new Metrics();
  m.gauge('round', 'Open or last round.');
  m.counter('rounds_completed_total', 'Rounds closed (aggregated, kept or failed).');
  m.gauge('clients_connected', 'Connected clients.');
  m.gauge('clients_joined', 'Joined clients.');
  m.counter('updates_accepted_total', 'Updates accepted.');
  m.counter('updates_rejected_total', 'Client messages refused, by error code.');
  m.counter('malformed_packets_total', 'Frames the decoder rejected.');
  m.counter('unknown_events_total', 'Events outside the protocol.');
  m.counter('auth_failures_total', 'Refused handshakes and HTTP requests.');
  m.counter('bytes_received_total', 'Bytes received, by channel (socket: socket.io message payloads).');
  m.counter('bytes_sent_total', 'Bytes sent, by channel (socket: socket.io message payloads; backbone: weight and config files).');
  m.gauge('eval_accuracy', 'Accuracy of the last evaluation.');
  m.gauge('eval_loss', 'Loss of the last evaluation.');
  m.gauge('round_duration_seconds', 'Duration of the last closed round.');
  m.counter('round_failures_total', 'Selected clients that reported they could not train a round (round:failed), by reason.');
  m.counter('rounds_refused_total', 'Rounds whose aggregate was refused (non-finite) or failed; the previous global state was kept.');
  return m;
}
