// Embedded single-node OpenSearch 2.19 for Strata's local/CI test engines.
//
// Started by scripts/engines/opensearch.sh with the OpenSearch server jar and
// its module jars (transport-netty4, analysis-common, mapper-extras,
// lang-painless, reindex, aggs-matrix-stats) from Maven Central on the
// classpath. Configuration comes from system properties (see usage()).
// Runs until SIGTERM/SIGINT, then closes the node cleanly.

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public final class StrataOpenSearch {

    /** Module plugins loaded from the classpath; any that is absent is skipped with a warning. */
    private static final String[] MODULES = {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
        "org.opensearch.painless.PainlessPlugin",
        "org.opensearch.index.reindex.ReindexPlugin",
        "org.opensearch.search.aggregations.matrix.MatrixAggregationPlugin",
    };

    /** Node subclass only to reach the protected constructor that accepts classpath plugins. */
    private static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    private static String prop(String name, String def) {
        String v = System.getProperty(name);
        return (v == null || v.isEmpty()) ? def : v;
    }

    private static void usage() {
        System.err.println("system properties: strata.os.home (required), strata.os.host [127.0.0.1], "
            + "strata.os.http.port [59200], strata.os.transport.port [59300], strata.os.cluster [strata-test]");
    }

    @SuppressWarnings("unchecked")
    private static List<Class<? extends Plugin>> loadModules() {
        List<Class<? extends Plugin>> out = new ArrayList<>();
        for (String name : MODULES) {
            try {
                out.add((Class<? extends Plugin>) Class.forName(name));
                System.out.println("[strata-opensearch] module loaded: " + name);
            } catch (ClassNotFoundException e) {
                System.out.println("[strata-opensearch] WARNING module not on classpath: " + name);
            }
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        String home = System.getProperty("strata.os.home");
        if (home == null || home.isEmpty()) {
            usage();
            System.exit(2);
        }
        Path homePath = Paths.get(home).toAbsolutePath();
        Path data = homePath.resolve("data");
        Path logs = homePath.resolve("logs");
        Path config = homePath.resolve("config");
        Files.createDirectories(data);
        Files.createDirectories(logs);
        Files.createDirectories(config);
        Files.createDirectories(homePath.resolve("plugins"));
        Files.createDirectories(homePath.resolve("modules"));

        String host = prop("strata.os.host", "127.0.0.1");
        Settings settings = Settings.builder()
            .put("cluster.name", prop("strata.os.cluster", "strata-test"))
            .put("node.name", "strata-os-1")
            .put("path.home", homePath.toString())
            .put("path.data", data.toString())
            .put("path.logs", logs.toString())
            .put("discovery.type", "single-node")
            .put("network.host", host)
            .put("http.host", host)
            .put("transport.host", host)
            .put("http.port", prop("strata.os.http.port", "59200"))
            .put("transport.port", prop("strata.os.transport.port", "59300"))
            // a test machine's disk may be fuller than the production watermarks allow
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("http.cors.enabled", false)
            .build();

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> "strata-os-1");
        Node node = new EmbeddedNode(env, loadModules());

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("[strata-opensearch] shutdown requested, closing node");
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "strata-opensearch-shutdown"));

        node.start();
        System.out.println("[strata-opensearch] started: http://" + host + ":" + prop("strata.os.http.port", "59200"));
        stopped.await();
    }
}
