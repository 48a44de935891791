/*
 * A Java peer speaking Flume's Avro RPC protocol (AvroSourceProtocol), written
 * for the flume-sdk testkit. It uses Avro's own NettyServer/NettyTransceiver
 * with GenericResponder/GenericRequestor, so no code generation is needed.
 *
 *   server PORT [ok|failed|delayMs=N] [deflate]
 *       Acts like Flume's AvroSource: prints one JSON line per event on stdout
 *       ({"op","headers","body_b64"}) and "READY <port>" on stderr once listening.
 *       PORT 0 picks a free port.
 *   client HOST PORT COUNT BATCH [deflate] [bodySize=N] [timeoutMs=N]
 *       Acts like Flume's AvroSink: appendBatch (append when BATCH is 1), one JSON
 *       status line per call and a summary line. Exit 0 if every call returned OK,
 *       1 if one returned FAILED/UNKNOWN, 2 on an exception.
 *   md5
 *       Prints the protocol's MD5 as Java computes it.
 */

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.avro.Protocol;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.ipc.NettyServer;
import org.apache.avro.ipc.NettyTransceiver;
import org.apache.avro.ipc.generic.GenericRequestor;
import org.apache.avro.ipc.generic.GenericResponder;
import org.jboss.netty.channel.ChannelPipeline;
import org.jboss.netty.channel.ChannelPipelineFactory;
import org.jboss.netty.channel.Channels;
import org.jboss.netty.channel.socket.SocketChannel;
import org.jboss.netty.channel.socket.nio.NioClientSocketChannelFactory;
import org.jboss.netty.channel.socket.nio.NioServerSocketChannelFactory;
import org.jboss.netty.handler.codec.compression.ZlibDecoder;
import org.jboss.netty.handler.codec.compression.ZlibEncoder;

public final class FlumeAvroPeer {

  private static final String LICENCE_DOC =
      "* Licensed to the Apache Software Foundation (ASF) under one\n"
      + " * or more contributor license agreements.  See the NOTICE file\n"
      + " * distributed with this work for additional information\n"
      + " * regarding copyright ownership.  The ASF licenses this file\n"
      + " * to you under the Apache License, Version 2.0 (the\n"
      + " * \\\"License\\\"); you may not use this file except in compliance\n"
      + " * with the License.  You may obtain a copy of the License at\n"
      + " *\n"
      + " * http://www.apache.org/licenses/LICENSE-2.0\n"
      + " *\n"
      + " * Unless required by applicable law or agreed to in writing,\n"
      + " * software distributed under the License is distributed on an\n"
      + " * \\\"AS IS\\\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY\n"
      + " * KIND, either express or implied.  See the License for the\n"
      + " * specific language governing permissions and limitations\n"
      + " * under the License.";

  /** Flume's AvroSourceProtocol, as Java Avro serialises flume.avdl (flume-rpc.md 1.1). */
  static final String PROTOCOL_JSON =
      "{\"protocol\":\"AvroSourceProtocol\",\"namespace\":\"org.apache.flume.source.avro\","
      + "\"doc\":\"" + LICENCE_DOC.replace("\n", "\\n") + "\","
      + "\"types\":[{\"type\":\"enum\",\"name\":\"Status\",\"symbols\":[\"OK\",\"FAILED\",\"UNKNOWN\"]},"
      + "{\"type\":\"record\",\"name\":\"AvroFlumeEvent\",\"fields\":["
      + "{\"name\":\"headers\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
      + "{\"name\":\"body\",\"type\":\"bytes\"}]}],"
      + "\"messages\":{\"append\":{\"request\":[{\"name\":\"event\",\"type\":\"AvroFlumeEvent\"}],"
      + "\"response\":\"Status\"},"
      + "\"appendBatch\":{\"request\":[{\"name\":\"events\",\"type\":{\"type\":\"array\","
      + "\"items\":\"AvroFlumeEvent\"}}],\"response\":\"Status\"}}}";

  static final Protocol PROTOCOL = Protocol.parse(PROTOCOL_JSON);
  static final Schema STATUS = PROTOCOL.getType("org.apache.flume.source.avro.Status");
  static final Schema EVENT = PROTOCOL.getType("org.apache.flume.source.avro.AvroFlumeEvent");

  private static final ExecutorService CALLER = Executors.newSingleThreadExecutor(runnable -> {
    Thread thread = new Thread(runnable, "avro-call");
    thread.setDaemon(true);
    return thread;
  });

  private FlumeAvroPeer() {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("server")) {
      runServer(args);
    } else if (args.length >= 5 && args[0].equals("client")) {
      System.exit(runClient(args));
    } else if (args.length == 1 && args[0].equals("md5")) {
      System.out.println(hex(PROTOCOL.getMD5()));
    } else {
      System.err.println("usage: server PORT [ok|failed|delayMs=N] [deflate]"
          + " | client HOST PORT COUNT BATCH [deflate] [bodySize=N] [timeoutMs=N] | md5");
      System.exit(64);
    }
  }

  // ---------------------------------------------------------------- server

  /** Answers every call like Flume's AvroSource, with a configurable status or delay. */
  static final class Source extends GenericResponder {
    private final String mode;
    private final long delayMs;

    Source(String mode, long delayMs) {
      super(PROTOCOL);
      this.mode = mode;
      this.delayMs = delayMs;
    }

    @Override
    public Object respond(Protocol.Message message, Object request) throws Exception {
      GenericRecord params = (GenericRecord) request;
      String op = message.getName();
      if (op.equals("append")) {
        printEvent(op, (GenericRecord) params.get("event"));
      } else {
        for (Object event : (List<?>) params.get("events")) {
          printEvent(op, (GenericRecord) event);
        }
      }
      if (delayMs > 0) {
        Thread.sleep(delayMs);
      }
      String symbol = mode.equals("failed") ? "FAILED" : "OK";
      return new GenericData.EnumSymbol(STATUS, symbol);
    }
  }

  static void runServer(String[] args) throws Exception {
    int port = Integer.parseInt(args[1]);
    String mode = "ok";
    long delayMs = 0;
    boolean deflate = false;
    for (int i = 2; i < args.length; i++) {
      if (args[i].equals("deflate")) {
        deflate = true;
      } else if (args[i].startsWith("delayMs=")) {
        delayMs = Long.parseLong(args[i].substring("delayMs=".length()));
      } else {
        mode = args[i];
      }
    }
    NioServerSocketChannelFactory factory = new NioServerSocketChannelFactory(
        Executors.newCachedThreadPool(), Executors.newCachedThreadPool());
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    NettyServer server = deflate
        ? new NettyServer(new Source(mode, delayMs), address, factory, new DeflatePipeline(), null)
        : new NettyServer(new Source(mode, delayMs), address, factory);
    server.start();
    System.err.println("READY " + server.getPort());
    System.err.flush();
    server.join();
  }

  /** Server pipeline with zlib first, as Flume's AvroSource does for compression-type=deflate. */
  static final class DeflatePipeline implements ChannelPipelineFactory {
    @Override
    public ChannelPipeline getPipeline() {
      ChannelPipeline pipeline = Channels.pipeline();
      pipeline.addFirst("deflater", new ZlibEncoder(6));
      pipeline.addFirst("inflater", new ZlibDecoder());
      return pipeline;
    }
  }

  static synchronized void printEvent(String op, GenericRecord event) {
    StringBuilder line = new StringBuilder("{\"op\":").append(quote(op)).append(",\"headers\":{");
    boolean first = true;
    for (Map.Entry<?, ?> header : ((Map<?, ?>) event.get("headers")).entrySet()) {
      line.append(first ? "" : ",").append(quote(header.getKey().toString()))
          .append(':').append(quote(header.getValue().toString()));
      first = false;
    }
    ByteBuffer body = ((ByteBuffer) event.get("body")).duplicate();
    byte[] bytes = new byte[body.remaining()];
    body.get(bytes);
    line.append("},\"body_b64\":").append(quote(Base64.getEncoder().encodeToString(bytes)))
        .append('}');
    System.out.println(line);
    System.out.flush();
  }

  // ---------------------------------------------------------------- client

  /** Client channel factory that puts zlib first, as Flume's NettyAvroRpcClient does. */
  static final class DeflateClientFactory extends NioClientSocketChannelFactory {
    DeflateClientFactory() {
      super(Executors.newCachedThreadPool(), Executors.newCachedThreadPool());
    }

    @Override
    public SocketChannel newChannel(ChannelPipeline pipeline) {
      pipeline.addFirst("deflater", new ZlibEncoder(6));
      pipeline.addFirst("inflater", new ZlibDecoder());
      return super.newChannel(pipeline);
    }
  }

  static int runClient(String[] args) {
    String host = args[1];
    int port = Integer.parseInt(args[2]);
    int count = Integer.parseInt(args[3]);
    int batch = Math.max(1, Integer.parseInt(args[4]));
    boolean deflate = false;
    int bodySize = 0;
    long timeoutMs = 20000;
    for (int i = 5; i < args.length; i++) {
      if (args[i].equals("deflate")) {
        deflate = true;
      } else if (args[i].startsWith("bodySize=")) {
        bodySize = Integer.parseInt(args[i].substring("bodySize=".length()));
      } else if (args[i].startsWith("timeoutMs=")) {
        timeoutMs = Long.parseLong(args[i].substring("timeoutMs=".length()));
      }
    }
    long started = System.nanoTime();
    int calls = 0;
    int delivered = 0;
    int exit = 0;
    NettyTransceiver transceiver = null;
    try {
      NioClientSocketChannelFactory factory = deflate
          ? new DeflateClientFactory()
          : new NioClientSocketChannelFactory(
              Executors.newCachedThreadPool(), Executors.newCachedThreadPool());
      transceiver = new NettyTransceiver(new InetSocketAddress(host, port), factory, timeoutMs);
      GenericRequestor requestor = new GenericRequestor(PROTOCOL, transceiver);
      for (int sent = 0; sent < count; sent += batch) {
        int size = Math.min(batch, count - sent);
        String status = call(requestor, sent, size, batch == 1, bodySize, timeoutMs);
        System.out.println("{\"call\":" + calls + ",\"events\":" + size
            + ",\"status\":" + quote(status) + "}");
        calls++;
        if (status.equals("OK")) {
          delivered += size;
        } else {
          exit = 1;
        }
      }
    } catch (Exception e) {
      System.out.println("{\"call\":" + calls + ",\"error\":" + quote(e.toString()) + "}");
      exit = 2;
    } finally {
      if (transceiver != null) {
        transceiver.close();
      }
    }
    long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    System.out.println("{\"summary\":true,\"calls\":" + calls + ",\"delivered\":" + delivered
        + ",\"elapsed_ms\":" + elapsedMs + ",\"exit\":" + exit + "}");
    System.out.flush();
    return exit;
  }

  static String call(GenericRequestor requestor, int first, int size, boolean single,
      int bodySize, long timeoutMs) throws Exception {
    String op = single ? "append" : "appendBatch";
    GenericRecord params = new GenericData.Record(PROTOCOL.getMessages().get(op).getRequest());
    if (single) {
      params.put("event", event(first, bodySize));
    } else {
      List<GenericRecord> events = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        events.add(event(first + i, bodySize));
      }
      params.put("events", events);
    }
    // The first call on a connection carries the handshake and Avro runs it
    // synchronously even with a callback, so the deadline is enforced here.
    Future<Object> reply = CALLER.submit(() -> requestor.request(op, params));
    return reply.get(timeoutMs, TimeUnit.MILLISECONDS).toString();
  }

  static GenericRecord event(int seq, int bodySize) {
    StringBuilder body = new StringBuilder("event-").append(seq);
    while (body.length() < bodySize) {
      body.append('x');
    }
    Map<String, String> headers = new HashMap<>();
    headers.put("seq", Integer.toString(seq));
    GenericRecord event = new GenericData.Record(EVENT);
    event.put("headers", headers);
    event.put("body", ByteBuffer.wrap(body.toString().getBytes(StandardCharsets.UTF_8)));
    return event;
  }

  // ---------------------------------------------------------------- helpers

  static String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  static String hex(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    for (byte b : bytes) {
      out.append(String.format("%02x", b & 0xff));
    }
    return out.toString();
  }
}
