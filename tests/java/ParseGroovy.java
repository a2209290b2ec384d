import java.io.File;

import org.codehaus.groovy.control.CompilationUnit;
import org.codehaus.groovy.control.Phases;

/**
 * Parses each file with Groovy's own compiler up to the AST (syntax only: Gradle's implicit imports and DSL
 * names are resolved by Gradle at build time, not here). Exits non-zero with Groovy's message on a syntax error.
 */
public final class ParseGroovy {
    public static void main(String[] args) {
        for (String path : args) {
            CompilationUnit unit = new CompilationUnit();
            unit.addSource(new File(path));
            unit.compile(Phases.CONVERSION);
        }
    }
}
