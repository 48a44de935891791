import java.io.BufferedReader;
import java.io.FileReader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The Java peer of the hdfs sink benchmark: what Flume's HDFS sink does with Hadoop's own client.
 *
 * <p>Usage: {@code HdfsWriterBench <hdfs://nn:port> <dir> <batch> <events> <hflush|hsync>
 * <linesPerFile> <lineBytes>}. {@code FileSystem.create} a file, write batches of
 * {@code batch} lines of {@code lineBytes} bytes (newline included), one {@code write} per
 * line as Flume's serializer does, then {@code hflush()} or {@code hsync()} per batch; a new
 * file every {@code linesPerFile} lines. Prints one JSON line: events, seconds, process CPU
 * seconds and peak RSS (KiB) measured from the first create to the last close, JVM start
 * excluded.
 */
public final class HdfsWriterBench {
    private HdfsWriterBench() {}

    public static void main(String[] args) throws Exception {
        URI uri = new URI(args[0]);
        String dir = args[1];
        int batch = Integer.parseInt(args[2]);
        long total = Long.parseLong(args[3]);
        boolean hsync = args[4].equals("hsync");
        long perFile = Long.parseLong(args[5]);
        int lineBytes = Integer.parseInt(args[6]);
        byte[] line = new byte[lineBytes];
        Arrays.fill(line, (byte) 'x');
        line[lineBytes - 1] = '\n';

        FileSystem fs = FileSystem.get(uri, new Configuration());
        com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        long written = 0;
        int fileNo = 0;
        FSDataOutputStream out = null;
        long inFile = 0;
        while (written < total) {
            if (out == null) {
                out = fs.create(new Path(dir + "/java." + (fileNo++) + ".tmp"), false);
                inFile = 0;
            }
            long n = Math.min(batch, Math.min(total - written, perFile - inFile));
            for (long i = 0; i < n; i++) {
                out.write(line);
            }
            if (hsync) {
                out.hsync();
            } else {
                out.hflush();
            }
            written += n;
            inFile += n;
            if (inFile >= perFile) {
                out.close();
                out = null;
            }
        }
        if (out != null) {
            out.close();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
        System.out.println("{\"events\": " + written + ", \"seconds\": " + seconds
            + ", \"cpu_seconds\": " + cpu + ", \"peak_rss_kib\": " + peakRssKib() + "}");
        fs.close();
    }

    private static long peakRssKib() throws Exception {
        try (BufferedReader in = new BufferedReader(
                new FileReader("/proc/self/status", StandardCharsets.US_ASCII))) {
            for (String s = in.readLine(); s != null; s = in.readLine()) {
                if (s.startsWith("VmHWM:")) {
                    return Long.parseLong(s.replaceAll("[^0-9]", ""));
                }
            }
        }
        return -1;
    }
}
