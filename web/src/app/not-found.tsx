import Link from "next/link";

export default function NotFound() {
  return (
    <div className="stack">
      <h1>Page not found</h1>
      <p>
        <Link href="/snipes">Go to your snipes</Link>
      </p>
    </div>
  );
}
