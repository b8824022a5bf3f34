package org.mailstream.config;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The Kafka half of the pre-flight checks that ingest-cli, ingest-lmtpd and store-worker share:
 * the brokers answer, a topic exists with a replication that can acknowledge writes, the
 * principal holds the right it needs, and the topic's size limit.
 */
public final class KafkaChecks {

    /** How long each call to the brokers may take before its check fails. */
    public static final long TIMEOUT_SECONDS = 15;

    /** What the pre-flight learnt of one topic: its description and the two settings that matter. */
    public record Topic(TopicDescription description, long maxMessageBytes, long minInSyncReplicas) {
        public String name() {
            return description.name();
        }

        public int replicationFactor() {
            return description.partitions().get(0).replicas().size();
        }
    }

    private final Admin admin;
    private final CheckReport report;

    public KafkaChecks(Admin admin, CheckReport report) {
        this.admin = admin;
        this.report = report;
    }

    /** Whether the brokers at {@code bootstrapServers} answer; one line either way. */
    public boolean brokersAnswer(String bootstrapServers) throws InterruptedException {
        try {
            int answered = admin.describeCluster().nodes().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).size();
            report.ok("kafka: " + answered + " broker(s) answer at " + bootstrapServers);
            return true;
        } catch (ExecutionException | TimeoutException e) {
            report.fail("kafka: no answer from " + bootstrapServers + " within " + TIMEOUT_SECONDS + " s: " + cause(e));
            return false;
        }
    }

    /**
     * The topic {@code name} ({@code role}: "topic", "dead-letter topic"), with the lines for its
     * existence, replication and the principal's right to {@code needed}; null when it or its
     * settings cannot be described (the lines say why).
     */
    public Topic topic(String role, String name, AclOperation needed) throws InterruptedException {
        TopicDescription description;
        try {
            description = admin.describeTopics(List.of(name), new DescribeTopicsOptions().includeAuthorizedOperations(true))
                    .topicNameValues().get(name).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            report.fail(role + " " + name + ": " + cause(e));
            return null;
        }
        Config settings;
        try {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
            settings = admin.describeConfigs(List.of(resource)).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).get(resource);
        } catch (ExecutionException | TimeoutException e) {
            // A principal with only the rights it needs may not read the settings: grant DescribeConfigs to check them.
            report.warn(role + " " + name + ": its settings are not readable, so not checked: " + cause(e));
            right(role + " " + name, description.authorizedOperations(), needed);
            return null;
        }
        Topic topic = new Topic(description, setting(settings, TopicConfig.MAX_MESSAGE_BYTES_CONFIG),
                setting(settings, TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG));
        report.ok(role + " " + name + ": " + description.partitions().size() + " partitions, replication factor "
                + topic.replicationFactor() + ", min.insync.replicas " + topic.minInSyncReplicas() + ", max.message.bytes "
                + topic.maxMessageBytes());
        if (topic.minInSyncReplicas() > topic.replicationFactor()) {
            report.fail(role + " " + name + ": min.insync.replicas " + topic.minInSyncReplicas() + " is above its replication factor "
                    + topic.replicationFactor() + ", so no write to it can be acknowledged");
        } else if (topic.replicationFactor() == 1) {
            report.warn(role + " " + name + ": replication factor 1: a broker lost is its records lost");
        }
        right(role + " " + name, description.authorizedOperations(), needed);
        return topic;
    }

    /** The line for the principal's right to {@code needed} on {@code what}, given the operations the brokers granted. */
    public void right(String what, Set<AclOperation> granted, AclOperation needed) {
        if (granted == null) {
            report.warn(what + ": the brokers did not say what the principal may do: rights not checked");
        } else if (granted.contains(needed) || granted.contains(AclOperation.ALL)) {
            report.ok(what + ": the principal may " + needed);
        } else {
            report.fail(what + ": the principal may not " + needed + " (it may " + granted + ")");
        }
    }

    /** The cause of a failed Admin call, in words. */
    public static String cause(Exception e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    }

    private static long setting(Config settings, String name) {
        return Long.parseLong(settings.get(name).value());
    }
}
