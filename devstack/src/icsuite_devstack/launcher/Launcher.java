// Starts the suite's local MongoDB-wire server (mongo-java-server) on 127.0.0.1.
//
//   java -cp '<libs>/*' Launcher.java --port N [--file F | --memory] [--no-oplog]
//
// --file keeps the data in an H2 MVStore file, --memory keeps it in memory (the default).
// The server reports MongoDB 5.0 with wire version 13: the library's own MONGO_5_0 reports
// wire version 8, and PyMongo 4.20 refuses anything below 9 (MongoDB 4.4).
// The oplog is on unless --no-oplog is given, so that change streams work; aggregate answers carry
// an `operationTime`, which PyMongo's watch() requires and the library does not send.
// SIGTERM shuts the server down gracefully, which commits the H2 file.

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.List;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.message.MongoMessage;

public class Launcher {

    static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    static MongoBackend withOperationTime(MongoBackend backend) {
        return (MongoBackend) Proxy.newProxyInstance(Launcher.class.getClassLoader(),
            new Class<?>[] {MongoBackend.class}, (proxy, method, arguments) -> {
                Object result;
                try {
                    result = method.invoke(backend, arguments);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
                if (result instanceof Document response && arguments != null
                    && arguments[0] instanceof MongoMessage message
                    && message.getDocument().containsKey("aggregate")) {
                    response.putIfAbsent("operationTime", new BsonTimestamp(Instant.now(), 0));
                }
                return result;
            });
    }

    public static void main(String[] args) {
        int port = 27017;
        String file = null;
        boolean oplog = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--file" -> file = args[++i];
                case "--memory" -> file = null;
                case "--no-oplog" -> oplog = false;
                default -> {
                    System.err.println("unknown argument: " + args[i]);
                    System.exit(2);
                }
            }
        }
        MongoBackend backend = file == null ? new MemoryBackend() : new H2Backend(file);
        backend.version(REPORTED_VERSION);
        MongoServer server = new MongoServer(withOperationTime(backend));
        if (oplog) {
            server.enableOplog();
        }
        server.bind("127.0.0.1", port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("mongo-wire server shutting down");
            server.shutdownNow();
            System.out.println("mongo-wire server stopped");
        }));
        String storage = file == null ? "memory" : "file " + file;
        System.out.println("mongo-wire server listening on 127.0.0.1:" + port + " (" + storage
            + ", oplog " + (oplog ? "on" : "off") + ")");
    }
}
