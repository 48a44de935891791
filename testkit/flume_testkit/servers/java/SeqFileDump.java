/*
 * Reads and writes Hadoop SequenceFiles with Hadoop's own SequenceFile.Reader
 * and SequenceFile.Writer, for the flume-sdk testkit. Paths are local paths or
 * URIs (file://, hdfs://); put a conf dir on the classpath for a cluster.
 *
 *   header URI   one JSON line: version, key/value class, compression, codec, metadata
 *   read URI     the header line, then one JSON line per record:
 *                {"key_class","value_class","key","key_b64","value_b64"}
 *   write URI NONE|RECORD|BLOCK CODEC_CLASS bytes|text
 *                records from stdin, one "<long key>\t<base64 value>" per line;
 *                keys are LongWritable, values BytesWritable or Text.
 */

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.BytesWritable;
import org.apache.hadoop.io.DataOutputBuffer;
import org.apache.hadoop.io.IntWritable;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.NullWritable;
import org.apache.hadoop.io.SequenceFile;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.Writable;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.util.ReflectionUtils;

public final class SeqFileDump {

  private SeqFileDump() {}

  public static void main(String[] args) throws Exception {
    Configuration conf = new Configuration();
    if (args.length == 2 && args[0].equals("header")) {
      dump(conf, new Path(args[1]), false);
    } else if (args.length == 2 && args[0].equals("read")) {
      dump(conf, new Path(args[1]), true);
    } else if (args.length == 5 && args[0].equals("write")) {
      write(conf, new Path(args[1]), args[2], args[3], args[4]);
    } else {
      System.err.println("usage: header URI | read URI"
          + " | write URI NONE|RECORD|BLOCK CODEC_CLASS bytes|text  (records on stdin)");
      System.exit(64);
    }
  }

  static void dump(Configuration conf, Path path, boolean records) throws IOException {
    int version = readVersion(conf, path);
    try (SequenceFile.Reader reader =
        new SequenceFile.Reader(conf, SequenceFile.Reader.file(path))) {
      System.out.println(header(reader, version));
      if (records) {
        Writable key = (Writable) ReflectionUtils.newInstance(reader.getKeyClass(), conf);
        Writable value = (Writable) ReflectionUtils.newInstance(reader.getValueClass(), conf);
        while (reader.next(key, value)) {
          System.out.println(record(key, value));
        }
      }
    }
    System.out.flush();
  }

  static int readVersion(Configuration conf, Path path) throws IOException {
    byte[] magic = new byte[4];
    try (FSDataInputStream in = path.getFileSystem(conf).open(path)) {
      in.readFully(magic);
    }
    if (magic[0] != 'S' || magic[1] != 'E' || magic[2] != 'Q') {
      throw new IOException(path + " is not a SequenceFile: first bytes are "
          + Arrays.toString(Arrays.copyOf(magic, 3)) + ", expected 'SEQ'");
    }
    return magic[3];
  }

  static String header(SequenceFile.Reader reader, int version) {
    CompressionCodec codec = reader.getCompressionCodec();
    StringBuilder meta = new StringBuilder("{");
    boolean first = true;
    for (Map.Entry<Text, Text> entry : reader.getMetadata().getMetadata().entrySet()) {
      meta.append(first ? "" : ",").append(quote(entry.getKey().toString())).append(':')
          .append(quote(entry.getValue().toString()));
      first = false;
    }
    meta.append('}');
    return "{\"version\":" + version
        + ",\"key_class\":" + quote(reader.getKeyClassName())
        + ",\"value_class\":" + quote(reader.getValueClassName())
        + ",\"compression_type\":" + quote(reader.getCompressionType().name())
        + ",\"codec\":" + (codec == null ? "null" : quote(codec.getClass().getName()))
        + ",\"metadata\":" + meta + "}";
  }

  static String record(Writable key, Writable value) throws IOException {
    return "{\"key_class\":" + quote(key.getClass().getName())
        + ",\"value_class\":" + quote(value.getClass().getName())
        + ",\"key\":" + keyJson(key)
        + ",\"key_b64\":" + quote(b64(bytesOf(key)))
        + ",\"value_b64\":" + quote(b64(bytesOf(value))) + "}";
  }

  static String keyJson(Writable key) {
    if (key instanceof LongWritable) {
      return Long.toString(((LongWritable) key).get());
    }
    if (key instanceof IntWritable) {
      return Integer.toString(((IntWritable) key).get());
    }
    if (key instanceof NullWritable) {
      return "null";
    }
    return quote(key.toString());
  }

  /** The payload of BytesWritable/Text; any other Writable in its serialised form. */
  static byte[] bytesOf(Writable writable) throws IOException {
    if (writable instanceof BytesWritable) {
      return ((BytesWritable) writable).copyBytes();
    }
    if (writable instanceof Text) {
      return ((Text) writable).copyBytes();
    }
    DataOutputBuffer out = new DataOutputBuffer();
    writable.write(out);
    return Arrays.copyOf(out.getData(), out.getLength());
  }

  static void write(Configuration conf, Path path, String type, String codecClass,
      String valueType) throws Exception {
    SequenceFile.CompressionType compression = SequenceFile.CompressionType.valueOf(type);
    boolean text = valueType.equals("text");
    SequenceFile.Writer.Option compressionOption = compression == SequenceFile.CompressionType.NONE
        ? SequenceFile.Writer.compression(compression)
        : SequenceFile.Writer.compression(compression, codec(conf, codecClass));
    try (SequenceFile.Writer writer = SequenceFile.createWriter(conf,
            SequenceFile.Writer.file(path),
            SequenceFile.Writer.keyClass(LongWritable.class),
            SequenceFile.Writer.valueClass(text ? Text.class : BytesWritable.class),
            compressionOption);
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          continue;
        }
        int tab = line.indexOf('\t');
        LongWritable key = new LongWritable(Long.parseLong(line.substring(0, tab)));
        byte[] value = Base64.getDecoder().decode(line.substring(tab + 1));
        writer.append(key, text ? new Text(value) : new BytesWritable(value));
      }
    }
  }

  static CompressionCodec codec(Configuration conf, String className) throws Exception {
    return (CompressionCodec) ReflectionUtils.newInstance(Class.forName(className), conf);
  }

  static String b64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

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
}
